//! Tests for mojibake detection and repair.
use super::*;
use crate::check::testing::{diagnostics, only};

fn repaired(text: &str) -> String {
    repair(text).0
}

#[test]
fn windows_1252_mojibake_is_repaired() {
    assert_eq!(
        repaired("Rust ZÃ¼risee November 2024"),
        "Rust Zürisee November 2024"
    );
    assert_eq!(repaired("Episode 13 â€“ Inside"), "Episode 13 – Inside");
    assert_eq!(repaired("2025-12-10 ðŸ¦€"), "2025-12-10 🦀");
    assert_eq!(
        repaired("2024 ðŸ¦€ Encore âœ¨ Talks"),
        "2024 🦀 Encore ✨ Talks"
    );
    assert_eq!(repaired("SessiÃ³ de codificaciÃ³"), "Sessió de codificació");
}

#[test]
fn mac_roman_mojibake_is_repaired() {
    assert_eq!(repaired("Sessi√≥ setmanal"), "Sessió setmanal");
    assert_eq!(repaired("Rust en Espa√±ol"), "Rust en Español");
    assert_eq!(repaired("metalab \u{f8ff}ü¶Ä"), "metalab 🦀");
    assert_eq!(repaired("episode 16 ‚Äî WebRTC"), "episode 16 — WebRTC");
    let flag = "\u{f8ff}üè≥Ô∏è‚Äç\u{f8ff}üåà";
    assert_eq!(repaired(flag), "🏳\u{fe0f}\u{200d}🌈");
}

#[test]
fn each_occurrence_is_reported_with_its_intended_text() {
    let found = find("NÃ¼rnberg and MÃ¼nchen");
    let repairs: Vec<_> = found
        .iter()
        .map(|m| (m.found.as_str(), m.repair()))
        .collect();
    assert_eq!(repairs, [("Ã¼", Some("ü")), ("Ã¼", Some("ü"))]);
    assert_eq!(found[1].range, 17..21);
}

#[test]
fn correct_non_ascii_text_is_left_alone() {
    let text = "Zürich, Sessió, São Paulo, Español, Łódź, Nürnberg – 🦀 ❌✅ 👋 “über” …élan, Ü–x, naïve café";
    assert_eq!(find(text), []);
    assert_eq!(repaired(text), text);
}

#[test]
fn text_that_reads_differently_in_the_two_encodings_is_ambiguous_and_not_repaired() {
    let found = find("x Â¬© y");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].repair(), None);
    assert_eq!(found[0].readings.len(), 2);
    assert_eq!(repaired("x Â¬© y"), "x Â¬© y");
}

#[test]
fn the_rule_reports_line_column_and_the_repair() {
    let body = "* [video] [Rust ZÃ¼risee](https://x.org)\n";
    assert_eq!(only("mojibake", body), [(6, 18)]);
    let d = &diagnostics(body)[0];
    assert_eq!(d.len, 2);
    assert!(
        d.message.contains("`Ã¼`") && d.message.contains("Windows-1252"),
        "{}",
        d.message
    );
    assert!(d.fix.as_deref().unwrap().contains("`ü`"));
}

#[test]
fn ambiguous_text_is_reported_without_a_repair() {
    let d = &diagnostics("Price Â¬© here.\n")[0];
    assert_eq!(d.rule, "mojibake");
    assert!(d.message.contains(" or "), "{}", d.message);
    assert!(d.fix.as_deref().unwrap().contains("by hand"));
}
