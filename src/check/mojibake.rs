//! `mojibake`: UTF-8 text that was decoded as Windows-1252 (`Ã¼`, `â€“`,
//! `ðŸ¦€`) or Mac Roman (`√≥`, `ü¶Ä`), found and repaired.
//!
//! A suspicious run is a stretch of characters that each map to one high
//! byte in the legacy encoding. The run is encoded back to those bytes and
//! decoded as UTF-8; every valid multi-byte sequence whose character is a
//! plausible intent (Latin letters, punctuation, symbols, CJK, emoji) is a
//! finding. When the two encodings read the same text differently the
//! finding is ambiguous and is never repaired automatically.
use std::collections::HashMap;
use std::ops::Range;
use std::sync::LazyLock;

use encoding_rs::{Encoding, MACINTOSH, WINDOWS_1252};

use super::{Emitter, Rule, excerpt};

/// One mis-encoded stretch of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mojibake {
    /// Byte range in the text.
    pub range: Range<usize>,
    /// The mis-encoded text as found.
    pub found: String,
    /// Each reading: (encoding it was mis-decoded as, intended text).
    /// Exactly one reading means the repair is certain.
    pub readings: Vec<(&'static str, String)>,
}

impl Mojibake {
    /// The intended text, when only one reading exists.
    pub fn repair(&self) -> Option<&str> {
        match self.readings.as_slice() {
            [(_, text)] => Some(text),
            _ => None,
        }
    }
}

/// A legacy single-byte encoding: char → byte for bytes 0x80..=0xFF.
struct Table {
    name: &'static str,
    byte_of: HashMap<char, u8>,
}

impl Table {
    /// Builds the reverse table from `encoding_rs`'s decoder.
    fn new(encoding: &'static Encoding) -> Table {
        let mut byte_of = HashMap::new();
        for b in 0x80..=0xFFu8 {
            let byte = [b];
            let (text, _) = encoding.decode_without_bom_handling(&byte);
            let mut chars = text.chars();
            if let (Some(c), None) = (chars.next(), chars.next())
                && c != char::REPLACEMENT_CHARACTER
            {
                byte_of.insert(c, b);
            }
        }
        let name = if encoding == MACINTOSH {
            "Mac Roman"
        } else {
            "Windows-1252"
        };
        Table { name, byte_of }
    }
}

static TABLES: LazyLock<[Table; 2]> =
    LazyLock::new(|| [Table::new(WINDOWS_1252), Table::new(MACINTOSH)]);

/// Every mis-encoded stretch in `text`, in order.
pub fn find(text: &str) -> Vec<Mojibake> {
    if text.is_ascii() {
        return Vec::new();
    }
    let mut found: Vec<(Range<usize>, &'static str, String)> = Vec::new();
    for table in TABLES.iter() {
        scan(table, text, &mut found);
    }
    found.sort_by_key(|f| (f.0.start, f.0.end));
    merge(text, found)
}

/// `text` with every certain repair applied, and the findings.
pub fn repair(text: &str) -> (String, Vec<Mojibake>) {
    let findings = find(text);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for m in &findings {
        if let Some(fixed) = m.repair() {
            out.push_str(&text[at..m.range.start]);
            out.push_str(fixed);
            at = m.range.end;
        }
    }
    out.push_str(&text[at..]);
    (out, findings)
}

pub(crate) fn check(em: &mut Emitter<'_>) {
    if !em.enabled(Rule::Mojibake) {
        return;
    }
    for m in find(em.source()) {
        let found = excerpt(&m.found, 40);
        let (message, fix) = match m.readings.as_slice() {
            [(encoding, text)] => (
                format!("mis-encoded text `{found}` (UTF-8 read as {encoding})"),
                format!(
                    "write `{}`; `mailroom check --fix` repairs it",
                    excerpt(text, 40)
                ),
            ),
            readings => (
                format!(
                    "mis-encoded text `{found}` reads as {}",
                    readings
                        .iter()
                        .map(|(e, t)| format!("`{}` ({e})", excerpt(t, 40)))
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
                "correct it by hand; `--fix` leaves ambiguous text alone".to_owned(),
            ),
        };
        em.at(Rule::Mojibake, m.range, message, fix);
    }
}

/// Finds the repairable stretches of `text` under one encoding.
fn scan(table: &Table, text: &str, out: &mut Vec<(Range<usize>, &'static str, String)>) {
    let bytes = text.as_bytes();
    let mut run: Vec<(usize, char, u8)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii() {
            if run.len() > 1 {
                decode_run(table, &run, out);
            }
            run.clear();
            // Skip the ASCII stretch in one go; most of an issue is ASCII.
            i += bytes[i..]
                .iter()
                .position(|b| !b.is_ascii())
                .unwrap_or(bytes.len() - i);
            continue;
        }
        let c = text[i..]
            .chars()
            .next()
            .unwrap_or(char::REPLACEMENT_CHARACTER);
        match table.byte_of.get(&c) {
            Some(&b) => run.push((i, c, b)),
            None => {
                if run.len() > 1 {
                    decode_run(table, &run, out);
                }
                run.clear();
            }
        }
        i += c.len_utf8();
    }
    if run.len() > 1 {
        decode_run(table, &run, out);
    }
}

/// Decodes the valid, plausible UTF-8 sequences inside one run; adjacent
/// sequences form one finding.
fn decode_run(
    table: &Table,
    run: &[(usize, char, u8)],
    out: &mut Vec<(Range<usize>, &'static str, String)>,
) {
    let bytes: Vec<u8> = run.iter().map(|r| r.2).collect();
    let end_of = |k: usize| run[k].0 + run[k].1.len_utf8();
    let mut current: Option<(Range<usize>, String)> = None;
    let mut i = 0;
    while i < bytes.len() {
        let len = sequence_len(bytes[i]);
        let decoded = (len > 1 && i + len <= bytes.len())
            .then(|| std::str::from_utf8(&bytes[i..i + len]).ok())
            .flatten()
            .filter(|s| s.chars().all(plausible));
        match decoded {
            Some(s) => {
                let (range, text) =
                    current.get_or_insert_with(|| (run[i].0..run[i].0, String::new()));
                range.end = end_of(i + len - 1);
                text.push_str(s);
                i += len;
            }
            None => {
                if let Some((range, text)) = current.take() {
                    out.push((range, table.name, text));
                }
                i += 1;
            }
        }
    }
    if let Some((range, text)) = current {
        out.push((range, table.name, text));
    }
}

/// The length of the UTF-8 sequence a lead byte starts (0 if not a lead).
fn sequence_len(b: u8) -> usize {
    match b {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => 0,
    }
}

/// Whether `c` is a likely intended character. Latin Extended-B, Greek,
/// Cyrillic and the like are left out on purpose: chance pairs of ordinary
/// punctuation and accented letters (`“ü`, `…é` in Mac Roman) decode to them.
fn plausible(c: char) -> bool {
    matches!(c as u32,
        0xA0..=0x17F            // Latin-1 Supplement, Latin Extended-A
        | 0x2000..=0x2BFF       // punctuation, currency, arrows, symbols, dingbats
        | 0x3000..=0x9FFF       // CJK
        | 0xAC00..=0xD7AF       // Hangul
        | 0xFE00..=0xFE0F       // variation selectors
        | 0xFF00..=0xFFEF       // full-width forms
        | 0x1F000..=0x1FAFF     // emoji
    )
}

/// Readings kept per finding: two already make it ambiguous.
const MAX_READINGS: usize = 4;

/// Joins findings from both encodings: overlapping findings that agree are
/// one, findings that disagree become one ambiguous finding. Linear: each
/// finding's text is copied once, after its extent is known.
fn merge(text: &str, found: Vec<(Range<usize>, &'static str, String)>) -> Vec<Mojibake> {
    let mut out: Vec<Mojibake> = Vec::new();
    for (range, encoding, intended) in found {
        match out.last_mut() {
            Some(last) if range.start < last.range.end => {
                let same = last.range == range && last.readings.iter().any(|r| r.1 == intended);
                last.range = last.range.start..last.range.end.max(range.end);
                if !same && last.readings.len() < MAX_READINGS {
                    last.readings.push((encoding, intended));
                }
            }
            _ => out.push(Mojibake {
                found: String::new(),
                range,
                readings: vec![(encoding, intended)],
            }),
        }
    }
    for m in &mut out {
        m.found = text[m.range.clone()].to_owned();
    }
    out
}

#[cfg(test)]
mod tests;
