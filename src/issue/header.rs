//! The issue header's fields into a [`Header`]: the required `Title:`,
//! `Number:` and `Date:`, accepting the older forms Pelican accepts
//! (`Date: 2020-12-2`, no `Number:` but a title ending in one) and noting
//! each as a [`Leniency`] for the checker to warn about.
use time::Date;
use time::macros::format_description;

use super::ParseError;
use crate::domain::IssueNumber;
use crate::model::{Header, HeaderField, Leniency};

/// Builds the header; a missing field is reported at `end_line`, the
/// header's last line.
pub(super) fn build_header(
    fields: Vec<HeaderField>,
    end_line: usize,
) -> Result<Header, ParseError> {
    let find = |key: &str| fields.iter().find(|f| f.key.eq_ignore_ascii_case(key));
    let get = |key: &'static str, example: &'static str| {
        let field = find(key).ok_or(ParseError::MissingField {
            line: end_line,
            key,
            example,
        })?;
        if field.value.is_empty() {
            return Err(ParseError::EmptyField {
                line: field.line,
                key,
                example,
            });
        }
        Ok(field)
    };
    let mut lenient = Vec::new();
    let title_field = get("Title", "Title: This Week in Rust 625")?;
    let title = title_field.value.clone();
    let number = match (find("Number"), number_in_title(&title)) {
        (None, Some(number)) => {
            lenient.push(Leniency::NumberFromTitle {
                line: title_field.line,
            });
            number
        }
        _ => {
            let field = get("Number", "Number: 625")?;
            field.value.parse().map_err(|_| ParseError::BadNumber {
                line: field.line,
                found: field.value.clone(),
            })?
        }
    };
    let date_field = get("Date", "Date: 2025-11-12")?;
    let bad_date = || ParseError::BadDate {
        line: date_field.line,
        found: date_field.value.clone(),
    };
    let date = match parse_date(&date_field.value) {
        Some(date) => date,
        None => {
            let date = parse_unpadded_date(&date_field.value).ok_or_else(bad_date)?;
            lenient.push(Leniency::UnpaddedDate {
                line: date_field.line,
                found: date_field.value.clone(),
            });
            date
        }
    };
    // RFC 5322 dates (and the `time` crate's RFC 2822 formatting) start at 1900.
    if date.year() < 1900 {
        return Err(ParseError::DateOutOfRange {
            line: date_field.line,
            found: date_field.value.clone(),
        });
    }
    let category = find("Category").map(|f| f.value.clone());
    Ok(Header {
        title,
        number,
        date,
        category,
        fields,
        lenient,
    })
}

/// The number a title ends in (`This Week in Rust 42` → 42), if any.
pub fn number_in_title(title: &str) -> Option<IssueNumber> {
    let digits = title.len() - title.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let start = title.len() - digits;
    // A number glued to a word (`Rust2024`) is part of the word.
    let glued = title[..start]
        .chars()
        .next_back()
        .is_some_and(char::is_alphanumeric);
    (digits > 0 && !glued)
        .then(|| title[start..].parse().ok())
        .flatten()
}

/// Parses `YYYY-MM-DD` (exactly that; no times, no other separators).
pub fn parse_date(value: &str) -> Option<Date> {
    let format = format_description!("[year]-[month]-[day]");
    (value.len() == 10)
        .then(|| Date::parse(value, format).ok())
        .flatten()
}

/// Parses `YYYY-M-D`, a month or day without its leading zero, as Pelican
/// does (`2020-12-2`).
fn parse_unpadded_date(value: &str) -> Option<Date> {
    let mut parts = value.split('-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = |s: &str, max: usize| {
        !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit())
    };
    if parts.next().is_some()
        || !digits(year, 4)
        || year.len() != 4
        || !digits(month, 2)
        || !digits(day, 2)
    {
        return None;
    }
    let year: i32 = year.parse().ok()?;
    let month: u8 = month.parse().ok()?;
    let day: u8 = day.parse().ok()?;
    Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_number_is_the_last_word_made_of_digits() {
        let n = |t: &str| number_in_title(t).map(IssueNumber::get);
        assert_eq!(n("This Week in Rust 42"), Some(42));
        assert_eq!(n("This Week in Rust #7"), Some(7));
        assert_eq!(n("Rust2024"), None);
        assert_eq!(n("This Week in Rust"), None);
        assert_eq!(n("Issue 0"), None, "zero is not an issue number");
    }

    #[test]
    fn unpadded_months_and_days_parse_and_impossible_dates_do_not() {
        let d = |s: &str| parse_unpadded_date(s).map(|d| d.to_string());
        assert_eq!(d("2020-12-2").as_deref(), Some("2020-12-02"));
        assert_eq!(d("2013-6-9").as_deref(), Some("2013-06-09"));
        assert_eq!(d("2020-2-30"), None);
        assert_eq!(d("20-12-2"), None);
        assert_eq!(d("2020-012-2"), None);
        assert_eq!(d("2020-12-2-1"), None);
        assert_eq!(d("2020-+1-2"), None);
    }
}
