//! A strict parser of the Prometheus text exposition format (0.0.4), for
//! checking `/metrics`: every line is a `# HELP`, a `# TYPE` or a sample;
//! names, label names and escapes are as the format defines them; every
//! sample belongs to the family its `# TYPE` declared before it, families
//! are contiguous, series are unique, counters are not negative, and each
//! histogram's buckets are cumulative, end at `+Inf` and match `_count`.
//! Anything else is an error naming the line. (The crates that parse this
//! format skip lines they don't understand, which would hide mistakes.)
use std::collections::{BTreeMap, BTreeSet};

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// A parsed exposition.
#[derive(Debug, Default)]
pub struct Scrape {
    /// Family name → type (`counter`, `gauge`, `histogram`, …).
    pub types: BTreeMap<String, String>,
    pub samples: Vec<Sample>,
}

impl Scrape {
    /// The value of the one sample called `name` whose labels include
    /// `labels`; panics when there is none or more than one.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let found: Vec<&Sample> = self
            .samples
            .iter()
            .filter(|s| s.name == name)
            .filter(|s| {
                labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(v))
            })
            .collect();
        match found.as_slice() {
            [one] => one.value,
            [] => panic!("no sample `{name}` with {labels:?}"),
            many => panic!("{} samples `{name}` with {labels:?}: {many:?}", many.len()),
        }
    }

    /// Like [`Scrape::value`], but 0 when there is no such sample.
    pub fn value_or_zero(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let any = self.samples.iter().any(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(v))
        });
        if any { self.value(name, labels) } else { 0.0 }
    }

    /// Every label value in the scrape.
    pub fn label_values(&self) -> BTreeSet<(String, String)> {
        self.samples
            .iter()
            .flat_map(|s| s.labels.iter().map(|(k, v)| (k.clone(), v.clone())))
            .collect()
    }
}

/// Parses `text`, or says which line breaks the format and how.
pub fn parse(text: &str) -> Result<Scrape, String> {
    if !text.ends_with('\n') {
        return Err("the exposition does not end with a newline".into());
    }
    let mut scrape = Scrape::default();
    let mut helped = BTreeSet::new();
    let mut finished = BTreeSet::new();
    let mut current: Option<String> = None;
    let mut series = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let at = |e: String| format!("line {}: {e}: `{line}`", i + 1);
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest
                .split_once(' ')
                .ok_or_else(|| at("HELP without text".into()))?;
            check_name(name).map_err(at)?;
            check_help(help).map_err(at)?;
            if !helped.insert(name.to_owned()) {
                return Err(at(format!("a second HELP for `{name}`")));
            }
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest
                .split_once(' ')
                .ok_or_else(|| at("TYPE without a type".into()))?;
            check_name(name).map_err(at)?;
            if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind) {
                return Err(at(format!("unknown type `{kind}`")));
            }
            if scrape
                .types
                .insert(name.to_owned(), kind.to_owned())
                .is_some()
            {
                return Err(at(format!("a second TYPE for `{name}`")));
            }
            if let Some(prev) = current.replace(name.to_owned()) {
                finished.insert(prev);
            }
        } else if line.starts_with('#') || line.is_empty() {
            return Err(at("neither HELP, TYPE nor a sample".into()));
        } else {
            let sample = parse_sample(line).map_err(at)?;
            let family = family_of(&scrape.types, &sample.name)
                .ok_or_else(|| at("a sample of no declared family".into()))?;
            if current.as_deref() != Some(family.as_str()) || finished.contains(&family) {
                return Err(at(format!(
                    "a sample outside its family `{family}`'s group"
                )));
            }
            if !series.insert((sample.name.clone(), sample.labels.clone())) {
                return Err(at("a repeated series".into()));
            }
            // NaN is not a count either.
            let counted = sample.value >= 0.0;
            if scrape.types[&family] == "counter" && !counted {
                return Err(at("a counter below 0 or NaN".into()));
            }
            scrape.samples.push(sample);
        }
    }
    check_histograms(&scrape)?;
    Ok(scrape)
}

/// The declared family a sample name belongs to.
fn family_of(types: &BTreeMap<String, String>, name: &str) -> Option<String> {
    if types.get(name).is_some_and(|t| t != "histogram") {
        return Some(name.to_owned());
    }
    ["_bucket", "_sum", "_count"].iter().find_map(|suffix| {
        let base = name.strip_suffix(suffix)?;
        (types.get(base)? == "histogram").then(|| base.to_owned())
    })
}

fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':');
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
        Ok(())
    } else {
        Err(format!("`{name}` is not a metric name"))
    }
}

fn check_label_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(())
    } else {
        Err(format!("`{name}` is not a label name"))
    }
}

/// HELP text may escape only `\\` and `\n`.
fn check_help(help: &str) -> Result<(), String> {
    let mut chars = help.chars();
    while let Some(c) = chars.next() {
        if c == '\\' && !matches!(chars.next(), Some('\\' | 'n')) {
            return Err("a bad escape in HELP".into());
        }
    }
    Ok(())
}

fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line.find(['{', ' ']).ok_or("a sample without a value")?;
    let name = &line[..name_end];
    check_name(name)?;
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(inner) = rest.strip_prefix('{') {
        let (parsed, after) = parse_labels(inner)?;
        labels = parsed;
        rest = after;
    }
    let rest = rest.strip_prefix(' ').ok_or("no space before the value")?;
    let mut fields = rest.split(' ');
    let value = parse_value(fields.next().unwrap_or(""))?;
    if let Some(ts) = fields.next() {
        ts.parse::<i64>()
            .map_err(|_| format!("a bad timestamp `{ts}`"))?;
    }
    if fields.next().is_some() {
        return Err("text after the value".into());
    }
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

/// `name="value",…}` (after the `{`): the labels and what follows the `}`.
fn parse_labels(mut s: &str) -> Result<(BTreeMap<String, String>, &str), String> {
    let mut labels = BTreeMap::new();
    loop {
        if let Some(after) = s.strip_prefix('}') {
            return Ok((labels, after));
        }
        let (name, after) = s.split_once("=\"").ok_or("a label without `=\"`")?;
        check_label_name(name)?;
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next().ok_or("an unterminated label value")? {
                (i, '"') => break i,
                (_, '\\') => match chars.next().map(|(_, c)| c) {
                    Some('\\') => value.push('\\'),
                    Some('"') => value.push('"'),
                    Some('n') => value.push('\n'),
                    _ => return Err("a bad escape in a label value".into()),
                },
                (_, c) => value.push(c),
            }
        };
        if labels.insert(name.to_owned(), value).is_some() {
            return Err(format!("label `{name}` twice"));
        }
        s = &after[end + 1..];
        s = s.strip_prefix(',').unwrap_or(s);
    }
}

fn parse_value(v: &str) -> Result<f64, String> {
    match v {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ => v.parse().map_err(|_| format!("`{v}` is not a number")),
    }
}

/// A series' labels other than `le`, in order.
type Labels = Vec<(String, String)>;

/// Buckets cumulative, ending at `+Inf`, equal to `_count`, per series.
fn check_histograms(scrape: &Scrape) -> Result<(), String> {
    for (family, _) in scrape.types.iter().filter(|(_, t)| *t == "histogram") {
        let mut buckets: BTreeMap<Labels, Vec<(f64, f64)>> = BTreeMap::new();
        for s in scrape
            .samples
            .iter()
            .filter(|s| s.name == format!("{family}_bucket"))
        {
            let le = s
                .labels
                .get("le")
                .ok_or(format!("`{family}_bucket` without `le`"))?;
            let key: Vec<_> = s
                .labels
                .clone()
                .into_iter()
                .filter(|(k, _)| k != "le")
                .collect();
            buckets
                .entry(key)
                .or_default()
                .push((parse_value(le)?, s.value));
        }
        for (key, bs) in buckets {
            let ordered = bs.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1);
            let last = bs.last().copied().unwrap_or((0.0, 0.0));
            let labels: Vec<(&str, &str)> =
                key.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let count = scrape.value(&format!("{family}_count"), &labels);
            scrape.value(&format!("{family}_sum"), &labels);
            if !ordered || last.0 != f64::INFINITY || last.1 != count {
                return Err(format!("`{family}` {key:?}: buckets {bs:?}, count {count}"));
            }
        }
    }
    Ok(())
}

#[test]
fn the_exposition_parser_refuses_what_the_format_does_not_allow() {
    let good = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 2\n";
    assert_eq!(parse(good).unwrap().value("a_total", &[("x", "1")]), 2.0);
    for bad in [
        "a_total 1\n",                                // no TYPE
        "# TYPE a counter\na{x=\"1} 2\n",             // unterminated
        "# TYPE a counter\na{x=1} 2\n",               // unquoted
        "# TYPE a counter\na 2 3 4\n",                // trailing text
        "# TYPE a counter\na -1\n",                   // negative counter
        "# TYPE a gauge\na 1\na 2\n",                 // repeated series
        "# TYPE a gauge\n# TYPE b gauge\nb 1\na 1\n", // not grouped
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
        "# TYPE a gauge\na 1", // no final newline
    ] {
        assert!(parse(bad).is_err(), "accepted: {bad:?}");
    }
}
