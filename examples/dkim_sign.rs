//! Personalize (and DKIM-sign) N copies of an issue in one process, for
//! measuring CPU per message with `/usr/bin/time` when wall-clock benches
//! are too noisy (a shared machine): `unsigned`, `rsa` (the per-issue
//! plan), `whole` (each copy signed whole, as a generic signer would).
//!
//! Run: `cargo run --release --example dkim_sign -- rsa 2000 tests/fixtures/seeds/000_8dcd2075dd7da271.txt`
use std::sync::Arc;

use anyhow::Context;
use mailroom::domain::EmailAddress;
use mailroom::message::dkim::{PrivateKey, Signer};
use mailroom::message::{MessageContext, MessageTemplate, RecipientSlots};
use mailroom::render::{RenderContext, render_issue};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map_or("rsa", String::as_str);
    let n: usize = args.get(2).map_or(Ok(1000), |s| s.parse())?;
    let path = args
        .get(3)
        .map_or("examples/2025-10-08-this-week-in-rust.md", String::as_str);
    let settings = mailroom::config::load(None)?.settings;
    let issue = mailroom::issue::from_file(path.as_ref())?;
    let rendered = render_issue(&issue, &RenderContext::new(&settings))?;
    let ctx = MessageContext::from_settings(&settings, time::OffsetDateTime::now_utc())?;
    let template = MessageTemplate::build(&rendered, &ctx)?;
    let pem = std::fs::read("tests/fixtures/dkim/rsa.pem").context("run from the repository")?;
    let signer = Arc::new(Signer::new(
        "this-week-in-rust.org",
        "rsa",
        PrivateKey::from_pem(&pem)?,
    )?);
    let planned = template.clone().signed(signer.clone());
    let mut buffer = Vec::new();
    let mut bytes = 0;
    for i in 0..n {
        let to = EmailAddress::parse(&format!("reader{i}@example.com"))?;
        let slots = RecipientSlots::new(&ctx, issue.header.number, to, &format!("{i}.tok"))?;
        buffer.clear();
        match mode {
            "unsigned" => template.personalize_into(&slots, &mut buffer),
            "rsa" => planned.personalize_into(&slots, &mut buffer),
            "whole" => {
                template.personalize_into(&slots, &mut buffer);
                buffer = signer.sign_message(&buffer);
            }
            other => anyhow::bail!("mode `{other}`: expected unsigned, rsa or whole"),
        }
        bytes += buffer.len();
    }
    println!("{n} messages, {bytes} bytes");
    Ok(())
}
