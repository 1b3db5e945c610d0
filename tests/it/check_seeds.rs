//! The checker on the five seed issues: the exact diagnostics (an insta
//! snapshot, reviewed line by line), nothing on the clean issue 620, and the
//! mojibake repair against independently decoded intended text.
use std::path::Path;

use mailroom::check::{self, CheckContext};
use mailroom::model::Diagnostic;

const SEEDS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/seeds");
const INTENDED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/intended");

fn shipped_context() -> CheckContext {
    let toml = include_str!("../../config.toml");
    let settings = mailroom::config::from_sources(toml, Vec::new()).unwrap();
    CheckContext::new(&settings.check, settings.render.html_size_budget).unwrap()
}

fn check_seed(name: &str) -> Vec<Diagnostic> {
    let issue = mailroom::issue::from_file(&Path::new(SEEDS).join(name)).unwrap();
    check::check_issue(&issue, None, &shipped_context())
}

fn listing(diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let severity = format!("{:?}", d.severity).to_lowercase();
        out.push_str(&format!(
            "{}:{} {severity}[{}] {}\n",
            d.line, d.column, d.rule, d.message
        ));
        if let Some(fix) = &d.fix {
            out.push_str(&format!("    help: {fix}\n"));
        }
    }
    out
}

fn read(dir: &str, name: &str) -> String {
    std::fs::read_to_string(Path::new(dir).join(name)).unwrap()
}

#[test]
fn the_clean_issue_620_has_no_diagnostics() {
    assert_eq!(check_seed("001_daec47276e9082ac.txt"), []);
}

#[test]
fn every_seed_gets_exactly_its_expected_diagnostics() {
    for name in [
        "000_8dcd2075dd7da271.txt",
        "001_daec47276e9082ac.txt",
        "002_84f51de1dd2adc8d.txt",
        "003_7480672c79e93d81.txt",
        "004_09a664d404590bff.txt",
    ] {
        let seed = name.split('_').next().unwrap();
        insta::assert_snapshot!(format!("seed_{seed}"), listing(&check_seed(name)));
    }
}

#[test]
fn repairing_seed_625_gives_the_intended_text() {
    let name = "000_8dcd2075dd7da271.txt";
    let (repaired, findings) = check::mojibake::repair(&read(SEEDS, name));
    assert_eq!(findings.len(), 14);
    assert!(findings.iter().all(|m| m.repair().is_some()));
    let line_63 = repaired.lines().nth(62).unwrap();
    assert!(line_63.contains("Rust Zürisee November 2024"), "{line_63}");
    assert_eq!(repaired, read(INTENDED, name));
}

#[test]
fn repairing_the_mac_roman_and_other_windows_1252_seeds_gives_the_intended_text() {
    for name in ["002_84f51de1dd2adc8d.txt", "004_09a664d404590bff.txt"] {
        let (repaired, _) = check::mojibake::repair(&read(SEEDS, name));
        assert_eq!(repaired, read(INTENDED, name), "{name}");
    }
}

#[test]
fn a_repaired_seed_has_no_mojibake_left_and_keeps_its_other_findings() {
    let (repaired, _) = check::mojibake::repair(&read(SEEDS, "002_84f51de1dd2adc8d.txt"));
    let issue = mailroom::issue::parse("002.md", &repaired).unwrap();
    let after = check::check_issue(&issue, None, &shipped_context());
    let before = check_seed("002_84f51de1dd2adc8d.txt");
    assert!(after.iter().all(|d| d.rule != "mojibake"));
    let not_mojibake = before.iter().filter(|d| d.rule != "mojibake").count();
    assert_eq!(after.len(), not_mojibake);
}
