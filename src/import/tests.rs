//! Tests for row parsing: both formats, every bad-row kind, file-name statuses.
use time::macros::datetime;

use super::*;

const NOW: OffsetDateTime = datetime!(2025-06-01 12:00:00 UTC);

fn rows(input: &[u8], file: &str, format: Format) -> Vec<Row> {
    parse(input, file, format, NOW)
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

fn accepted(row: &Row) -> &ImportRecord {
    match row {
        Row::Accepted(r) => r,
        Row::Rejected(r) => panic!("rejected: {r}"),
    }
}

fn rejected(row: &Row) -> &RejectedRow {
    match row {
        Row::Rejected(r) => r,
        Row::Accepted(r) => panic!("accepted: {r:?}"),
    }
}

const SUBSCRIBED: &str = "\"Email Address\",\"First Name\",\"Last Name\",\"Phone\",\"MEMBER_RATING\",\"OPTIN_TIME\",\"OPTIN_IP\",\"CONFIRM_TIME\",\"CONFIRM_IP\"\n\
\"Ferris@Rust-Lang.ORG\",\"Ferris\",\"Crab\",\"\",\"2\",\"2014-11-01 20:53:34\",\"192.0.2.7\",\"2014-11-01 20:55:00\",\"192.0.2.8\"\n";

#[test]
fn mailchimp_subscribed_rows_carry_their_consent_record() {
    let rows = rows(
        SUBSCRIBED.as_bytes(),
        "subscribed_members_export_1.csv",
        Format::Mailchimp,
    );
    let r = accepted(&rows[0]);
    assert_eq!(r.email.as_str(), "Ferris@rust-lang.org");
    assert_eq!(r.name.as_deref(), Some("Ferris Crab"));
    assert_eq!(r.origin.line, 2);
    assert_eq!(r.consent.at, datetime!(2014-11-01 20:53:34 UTC));
    assert_eq!(r.consent.ip, Some("192.0.2.7".parse().unwrap()));
    assert_eq!(
        r.consent.confirmed_at,
        Some(datetime!(2014-11-01 20:55:00 UTC))
    );
    assert_eq!(r.consent.confirm_ip, Some("192.0.2.8".parse().unwrap()));
    assert_eq!(
        r.consent.source.to_string(),
        "import:subscribed_members_export_1.csv"
    );
    assert_eq!(r.status(), Status::Subscribed);
    assert_eq!(r.history.len(), 1);
}

#[test]
fn mailchimp_columns_are_found_by_name_not_position() {
    let input = "\"OPTIN_TIME\",\"Last Name\",\"Email Address\",\"First Name\"\n\
                 \"2020-01-02 03:04:05\",\"Crab\",\"a@example.com\",\"Ann\"\n";
    let rows = rows(input.as_bytes(), "subscribed_x.csv", Format::Mailchimp);
    let r = accepted(&rows[0]);
    assert_eq!(r.email.as_str(), "a@example.com");
    assert_eq!(r.name.as_deref(), Some("Ann Crab"));
    assert_eq!(r.consent.at, datetime!(2020-01-02 03:04:05 UTC));
}

#[test]
fn mailchimp_unsubscribed_rows_keep_the_time_and_the_reason() {
    let input = "\"Email Address\",\"OPTIN_TIME\",\"UNSUB_TIME\",\"UNSUB_CAMPAIGN_TITLE\",\"UNSUB_REASON\",\"UNSUB_REASON_OTHER\"\n\
                 \"u@example.com\",\"2019-01-01 00:00:00\",\"2021-05-06 07:08:09\",\"TWiR 400\",\"Other\",\"too much email\"\n";
    let rows = rows(
        input.as_bytes(),
        "unsubscribed_members_export_1.csv",
        Format::Mailchimp,
    );
    let r = accepted(&rows[0]);
    assert_eq!(r.status(), Status::Unsubscribed);
    assert_eq!(r.history[0].status, Status::Subscribed);
    assert_eq!(r.history[0].at, datetime!(2019-01-01 00:00:00 UTC));
    let last = r.last_change();
    assert_eq!(last.at, datetime!(2021-05-06 07:08:09 UTC));
    let reason = last.reason.as_deref().unwrap();
    assert!(
        reason.contains("too much email") && reason.contains("TWiR 400"),
        "{reason}"
    );
}

#[test]
fn mailchimp_cleaned_rows_become_bounced_at_the_clean_time() {
    let input = "\"Email Address\",\"CLEAN_TIME\",\"CLEAN_CAMPAIGN_TITLE\"\n\
                 \"c@example.com\",\"2022-02-03 04:05:06\",\"TWiR 430\"\n";
    let rows = rows(
        input.as_bytes(),
        "cleaned_members_export_1.csv",
        Format::Mailchimp,
    );
    let last = accepted(&rows[0]).last_change();
    assert_eq!(last.status, Status::Bounced);
    assert_eq!(last.at, datetime!(2022-02-03 04:05:06 UTC));
    assert!(last.reason.as_deref().unwrap().contains("TWiR 430"));
}

#[test]
fn every_bad_row_kind_is_rejected_with_its_line_and_the_rest_is_kept() {
    let mut input = b"\"Email Address\",\"First Name\"\n\"ok1@example.com\",\"A\"\n\"not-an-address\",\"B\"\n\"ok2@example.com\"\n\"bad@example.com\",\"".to_vec();
    input.extend_from_slice(b"\xff\xfe\"\n\"ok3@example.com\",\"C\"\n");
    let rows = rows(&input, "subscribed_x.csv", Format::Mailchimp);
    assert_eq!(rows.len(), 5);
    let bad: Vec<_> = rows
        .iter()
        .filter_map(|r| match r {
            Row::Rejected(r) => Some((r.origin.line, r.reason.clone())),
            Row::Accepted(_) => None,
        })
        .collect();
    assert_eq!(bad.len(), 3, "{bad:?}");
    assert_eq!(bad[0].0, 3);
    assert!(
        bad[0]
            .1
            .contains("`not-an-address` is not an email address"),
        "{}",
        bad[0].1
    );
    assert_eq!(bad[1].0, 4);
    assert!(
        bad[1]
            .1
            .contains("wrong column count: 1 fields, the header has 2"),
        "{}",
        bad[1].1
    );
    assert_eq!(bad[2].0, 5);
    assert!(bad[2].1.contains("not valid UTF-8"), "{}", bad[2].1);
    assert_eq!(accepted(&rows[4]).email.as_str(), "ok3@example.com");
    assert_eq!(
        rejected(&rows[1]).to_string(),
        format!("`subscribed_x.csv` line 3: {}; row skipped", bad[0].1)
    );
}

#[test]
fn a_mailchimp_file_without_an_email_column_or_status_word_is_refused() {
    let no_column = parse(
        &b"\"Mail\"\n\"a@example.com\"\n"[..],
        "subscribed_x.csv",
        Format::Mailchimp,
        NOW,
    );
    assert!(
        no_column
            .err()
            .unwrap()
            .to_string()
            .contains("no `Email Address` column")
    );
    let no_status = parse(SUBSCRIBED.as_bytes(), "members.csv", Format::Mailchimp, NOW);
    assert!(
        no_status
            .err()
            .unwrap()
            .to_string()
            .contains("cannot tell the status of `members.csv`")
    );
}

#[test]
fn plain_files_take_an_optional_header_and_an_optional_name() {
    let input = "email,name\na@example.com,Ann\nb@Example.com\n\nc@example.com, \n";
    let rows = rows(input.as_bytes(), "list.csv", Format::Plain);
    assert_eq!(rows.len(), 3);
    assert_eq!(accepted(&rows[0]).name.as_deref(), Some("Ann"));
    assert_eq!(accepted(&rows[0]).origin.line, 2);
    assert_eq!(accepted(&rows[1]).email.as_str(), "b@example.com");
    assert_eq!(accepted(&rows[2]).name, None);
    assert_eq!(accepted(&rows[2]).consent.at, NOW);
    assert_eq!(accepted(&rows[2]).status(), Status::Subscribed);
}

#[test]
fn plain_rows_with_too_many_columns_or_a_bad_address_are_rejected() {
    let input = "a@example.com\nb@example.com,B,extra\nnope\n";
    let rows = rows(input.as_bytes(), "list.csv", Format::Plain);
    assert!(
        rejected(&rows[1])
            .reason
            .contains("wrong column count: 3 fields")
    );
    assert!(
        rejected(&rows[2])
            .reason
            .contains("`nope` is not an email address")
    );
}

#[test]
fn a_header_is_only_recognized_on_the_first_line() {
    let rows = rows(b"a@example.com\nemail\n", "list.csv", Format::Plain);
    assert!(
        rejected(&rows[1])
            .reason
            .contains("`email` is not an email address")
    );
}

#[test]
fn the_status_comes_from_a_whole_word_of_the_file_name() {
    assert_eq!(
        status_from_file_name("subscribed_members_export_9f.csv"),
        Some(Status::Subscribed)
    );
    assert_eq!(
        status_from_file_name("x.zip/unsubscribed_members_export_9f.csv"),
        Some(Status::Unsubscribed)
    );
    assert_eq!(
        status_from_file_name("cleaned_members_export_9f.csv"),
        Some(Status::Bounced)
    );
    assert_eq!(status_from_file_name("subscribers.csv"), None);
    assert_eq!(
        status_from_file_name("my-unsubscribed-list.csv"),
        Some(Status::Unsubscribed)
    );
}

#[test]
fn plain_headers_are_mapped_by_name_in_any_order_and_spelling() {
    let input = "Phone,Last Name,FIRST_NAME,E-Mail Address\n1,Lovelace,Ada,ada@example.com\n";
    let mapped = rows(input.as_bytes(), "people.csv", Format::Plain);
    assert_eq!(mapped.len(), 1);
    assert_eq!(accepted(&mapped[0]).email.as_str(), "ada@example.com");
    assert_eq!(accepted(&mapped[0]).name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(accepted(&mapped[0]).origin.line, 2);
    let input = "\u{feff}name,email\nAnn,ann@example.com\n";
    let bom = rows(input.as_bytes(), "x.csv", Format::Plain);
    assert_eq!(accepted(&bom[0]).name.as_deref(), Some("Ann"));
}

#[test]
fn a_plain_header_without_an_address_column_names_the_file_and_the_fix() {
    let err = parse(
        &b"who,phone\nann@example.com,1\n"[..],
        "contacts.csv",
        Format::Plain,
        NOW,
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.contains("`contacts.csv` line 1: no column holds the email address")
            && err.contains("`who`, `phone`")
            && err.contains("name that column `email`"),
        "{err}"
    );
}

#[test]
fn a_mailroom_csv_export_gathers_each_subscribers_rows_into_one_record() {
    let header = crate::import::EXPORT_CSV_HEADER.join(",");
    let input = format!(
        "{header}\n\
         7,a@example.com,Ann,unsubscribed,2025-01-01T00:00:00Z,2025-02-01T00:00:00Z,web,2025-01-01T00:00:00Z,192.0.2.1,2025-01-01T00:05:00Z,192.0.2.1,2025-01-01T00:00:00Z,pending,web,192.0.2.1,\n\
         7,a@example.com,Ann,unsubscribed,2025-01-01T00:00:00Z,2025-02-01T00:00:00Z,web,2025-01-01T00:00:00Z,192.0.2.1,2025-01-01T00:05:00Z,192.0.2.1,2025-01-01T00:05:00Z,subscribed,web,192.0.2.1,\n\
         7,a@example.com,Ann,unsubscribed,2025-01-01T00:00:00Z,2025-02-01T00:00:00Z,web,2025-01-01T00:00:00Z,192.0.2.1,2025-01-01T00:05:00Z,192.0.2.1,2025-02-01T00:00:00Z,unsubscribed,web,,one-click\n\
         8,b@example.com,,subscribed,2025-01-01T00:00:00Z,2025-01-01T00:00:00Z,cli,2025-01-01T00:00:00Z,,,,2025-01-01T00:00:00Z,subscribed,cli,,\n"
    );
    let rows = rows(input.as_bytes(), "everyone.csv", Format::Plain);
    assert_eq!(rows.len(), 2, "{rows:?}");
    let a = accepted(&rows[0]);
    assert_eq!(a.origin.line, 2);
    assert_eq!(a.status(), Status::Unsubscribed);
    let statuses: Vec<_> = a.history.iter().map(|h| h.status).collect();
    assert_eq!(
        statuses,
        [Status::Pending, Status::Subscribed, Status::Unsubscribed]
    );
    assert_eq!(a.history[2].reason.as_deref(), Some("one-click"));
    assert_eq!(a.consent.ip, Some("192.0.2.1".parse().unwrap()));
    assert!(a.consent.confirmed_at.is_some());
    assert_eq!(accepted(&rows[1]).status(), Status::Subscribed);
}
