//! Helpers shared by the integration tests: the shipped config and the seeds.
#![allow(dead_code)]
use std::path::{Path, PathBuf};

pub mod chromium;
pub mod db;
pub mod dkim;
pub mod mta;
pub mod pg;
pub mod project;
pub mod prom;
pub mod prom_check;
pub mod relay;
pub mod sink;
pub mod terminal;
pub mod web;
pub mod web_conns;

use mailroom::config::Settings;
use mailroom::model::{Issue, Rendered};
use mailroom::render::{RenderContext, render_issue};

/// The shipped `config.toml`, without environment overrides.
pub fn settings() -> Settings {
    let toml = std::fs::read_to_string(root().join("config.toml")).expect("config.toml");
    mailroom::config::from_sources(&toml, []).expect("config.toml parses")
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The seed issue whose file name starts with `prefix` (`000`, `001`, …).
pub fn seed(prefix: &str) -> Issue {
    let dir = root().join("tests/fixtures/seeds");
    let path = std::fs::read_dir(&dir)
        .expect("seeds dir")
        .map(|e| e.expect("dir entry").path())
        .find(|p| file_name(p).starts_with(prefix))
        .unwrap_or_else(|| panic!("no seed `{prefix}` in {}", dir.display()));
    mailroom::issue::from_file(&path).expect("seed parses")
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Every seed's prefix.
pub const SEEDS: [&str; 5] = ["000", "001", "002", "003", "004"];

/// Renders `issue` with the shipped settings.
pub fn render(issue: &Issue) -> Rendered {
    let settings = settings();
    let ctx = RenderContext::new(&settings);
    render_issue(issue, &ctx).expect("seed renders")
}

/// `html` without the chrome's own parts that a check of the issue's
/// content must not see: Outlook's conditional comments (`<!--[if mso]>…`)
/// and the hidden preheader.
pub fn without_chrome_extras(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    loop {
        let mso = rest.find("<!--[if mso]>");
        let pre = rest.find("<div class=\"preheader\"");
        let (start, end_marker) = match (mso, pre) {
            (Some(m), Some(p)) if p < m => (p, "</div>"),
            (Some(m), _) => (m, "<![endif]-->"),
            (None, Some(p)) => (p, "</div>"),
            (None, None) => break,
        };
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find(end_marker)
            .map_or(rest.len(), |e| start + e + end_marker.len());
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}
