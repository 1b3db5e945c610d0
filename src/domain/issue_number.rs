//! `IssueNumber`: a newsletter issue's positive whole number.
use std::fmt;
use std::str::FromStr;

/// The number of an issue, e.g. 625. Always at least 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IssueNumber(u32);

/// Why a string is not an issue number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an issue number, expected a whole number like `625`")]
pub struct IssueNumberError(pub String);

impl IssueNumber {
    /// Builds an issue number, refusing zero.
    pub fn new(n: u32) -> Option<Self> {
        (n > 0).then_some(Self(n))
    }

    /// The number as an integer.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl FromStr for IssueNumber {
    type Err = IssueNumberError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IssueNumberError(s.to_owned()));
        }
        s.parse::<u32>()
            .ok()
            .and_then(Self::new)
            .ok_or_else(|| IssueNumberError(s.to_owned()))
    }
}

impl fmt::Display for IssueNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_parse_into_an_issue_number() {
        assert_eq!("625".parse::<IssueNumber>().unwrap().get(), 625);
        assert_eq!(" 7 ".parse::<IssueNumber>().unwrap().get(), 7);
    }

    #[test]
    fn zero_signs_and_letters_are_rejected() {
        for bad in ["0", "-1", "+3", "62a", "", "6 25", "99999999999"] {
            assert!(bad.parse::<IssueNumber>().is_err(), "{bad:?} was accepted");
        }
    }
}
