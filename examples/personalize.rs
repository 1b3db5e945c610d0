//! Render an issue once, then personalize it for several recipients: the
//! library calls behind `mailroom render` and `mailroom send`.
//!
//! Run: `cargo run --example personalize -- examples/2025-10-08-this-week-in-rust.md`
use anyhow::Context;
use mailroom::domain::EmailAddress;
use mailroom::message::{RecipientSlots, prepare};
use mailroom::render::{RenderContext, render_issue};

fn main() -> anyhow::Result<()> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "examples/2025-10-08-this-week-in-rust.md".into());
    // ./config.toml when present, else the built-in defaults; then MAILROOM_….
    let settings = mailroom::config::load(None)?.settings;
    let issue = mailroom::issue::from_file(path.as_ref())?;

    // Once per issue: Markdown → HTML + text, CSS inlined, MIME encoded.
    let rendered = render_issue(&issue, &RenderContext::new(&settings))?;
    let (template, ctx) = prepare(
        &rendered,
        &settings,
        issue.header.number,
        time::OffsetDateTime::now_utc(),
    )?;

    // Once per recipient: fill the slots into the prepared bytes.
    let mut buffer = Vec::new();
    for (i, addr) in ["ada@example.com", "grace@example.org", "linus@example.net"]
        .into_iter()
        .enumerate()
    {
        let to = EmailAddress::parse(addr).context("example address")?;
        let slots = RecipientSlots::new(&ctx, issue.header.number, to, &format!("token{i}"))?;
        buffer.clear();
        template.personalize_into(&slots, &mut buffer);
        println!(
            "{addr}: {} bytes, Message-ID {}",
            buffer.len(),
            slots.message_id
        );
    }
    Ok(())
}
