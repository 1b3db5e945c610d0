//! The independent reading of `/metrics`: Debian's python3-prometheus-client
//! (the Prometheus project's Python client) through `tests/prom_check.py`,
//! for the classic text format and for OpenMetrics. Its answer is compared
//! with [`super::prom`]'s, so neither parser alone decides what is valid.
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use super::prom::Scrape;

/// What the Python client read: families with their types, and samples.
#[derive(Debug, serde::Deserialize)]
pub struct Reading {
    pub families: Vec<(String, String)>,
    /// Values as Python's `repr` wrote them (exact); see [`Reading::value`].
    pub samples: Vec<(String, BTreeMap<String, String>, String)>,
}

impl Reading {
    /// The value of the one sample `name` whose labels include `labels`.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let found: Vec<_> = self
            .samples
            .iter()
            .filter(|(n, l, _)| {
                n == name
                    && labels
                        .iter()
                        .all(|(k, v)| l.get(*k).map(String::as_str) == Some(v))
            })
            .collect();
        assert_eq!(found.len(), 1, "`{name}` {labels:?}: {found:?}");
        number(&found[0].2)
    }

    /// `(family, type)`, as a set.
    pub fn types(&self) -> BTreeSet<(String, String)> {
        self.families.iter().cloned().collect()
    }
}

/// Parses `text` as `kind` (`text` or `openmetrics`) with the Python
/// client; panics with its complaint when it refuses the text. Panics
/// (never skips) when the package is missing: `scripts/test` installs it.
pub fn read(text: &str, kind: &str) -> Reading {
    assert!(
        Path::new("/usr/lib/python3/dist-packages/prometheus_client").exists(),
        "python3-prometheus-client is missing; run scripts/test, which installs it"
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/prom_check.py");
    let mut child = Command::new("/usr/bin/python3")
        .arg(script)
        .arg(kind)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "python3-prometheus-client: {err}\n{text}"
    );
    serde_json::from_slice(&out.stdout).expect("prom_check.py's JSON")
}

/// Asserts that the Python client reads the text-format `text` as exactly
/// the samples of `ours` (our strict parser's reading of the same text).
pub fn assert_same_samples(text: &str, ours: &Scrape) {
    let theirs = read(text, "text");
    let key = |name: &str, labels: &BTreeMap<String, String>, value: f64| {
        (name.to_owned(), labels.clone(), value.to_bits())
    };
    let python: BTreeSet<_> = theirs
        .samples
        .iter()
        .map(|(n, l, v)| key(n, l, number(v)))
        .collect();
    let rust: BTreeSet<_> = ours
        .samples
        .iter()
        .map(|s| key(&s.name, &s.labels, s.value))
        .collect();
    let only_python: Vec<_> = python.difference(&rust).collect();
    let only_rust: Vec<_> = rust.difference(&python).collect();
    assert!(
        only_python.is_empty() && only_rust.is_empty(),
        "the two parsers disagree: only python3-prometheus-client read {only_python:?}; \
         only ours read {only_rust:?}"
    );
    assert_eq!(theirs.samples.len(), ours.samples.len(), "{text}");
}

/// A value as Python's `repr` writes a float (`1.0`, `inf`, `nan`).
fn number(text: &str) -> f64 {
    text.parse()
        .unwrap_or_else(|_| panic!("`{text}` from prom_check.py is not a number"))
}
