//! `mailroom send --test`: the subscribers' message, subject prefixed
//! `[TEST] `, to the preview inbox(es); the ledger is never touched.
use std::process::ExitCode;
use std::str::FromStr;

use anyhow::Context;

use super::Prepared;
use crate::config::Settings;
use crate::domain::EmailAddress;
use crate::message::RecipientSlots;
use crate::output::note;
use crate::transport::{Delivery, Transport, outbox};

/// The unsubscribe token in test messages (the web service rejects it).
pub const TEST_TOKEN: &str = "test-send";

/// Sends one test message to each of `to` (or `[preview] recipients`).
pub async fn run(
    p: &Prepared,
    to: &[EmailAddress],
    settings: &Settings,
) -> anyhow::Result<ExitCode> {
    let recipients = recipients(to, settings)?;
    let mut rendered = p.rendered.clone();
    rendered.subject = format!("[TEST] {}", rendered.subject);
    let now = time::OffsetDateTime::now_utc();
    let (template, ctx) = crate::message::prepare(&rendered, settings, p.issue.header.number, now)?;
    let transport = super::transport(settings, p.issue.header.number, None).await?;
    let mut conn = match &transport {
        Transport::Smtp(relay) => Some(relay.connect().await?),
        Transport::Outbox(_) | Transport::Discard => None,
    };
    lettre::Address::from_str(ctx.from_address.as_str())
        .context("the From address is not usable as an SMTP envelope sender")?;
    // A bounce of a test send names the issue and no subscriber.
    let bounce = settings.bounces.mailbox()?;
    let secret = match &bounce {
        Some(_) => {
            crate::token::load_secret(&settings.web)?.ok_or_else(crate::token::missing_secret)?
        }
        None => Vec::new(),
    };
    let from = crate::token::verp::envelope_sender(
        &secret,
        bounce.as_ref(),
        &ctx.from_address,
        Some(p.issue.header.number),
        crate::domain::SubscriberId::new(crate::token::verp::TEST_SEND),
    );
    let mut failed = 0;
    for (i, addr) in recipients.into_iter().enumerate() {
        let mut slots = RecipientSlots::new(&ctx, p.issue.header.number, addr.clone(), TEST_TOKEN)?;
        // A test must not share its Message-ID with the real message, or a
        // preview inbox that is also subscribed would drop the real one.
        slots.message_id = format!(
            "<test-{}-{i}.{}@{}>",
            now.unix_timestamp_nanos(),
            p.issue.header.number,
            ctx.from_address.domain()
        );
        let bytes = template.personalize(&slots);
        let delivery = match (&transport, conn.as_mut()) {
            (Transport::Outbox(dir), _) => outbox::write(dir, &format!("test-{i}"), &bytes),
            (Transport::Discard, _) => Delivery::Sent("250 discarded".to_owned()),
            (_, Some(c)) => c.send(&from, &addr, &bytes).await.0,
            (Transport::Smtp(_), None) => unreachable!("connected above"),
        };
        match delivery {
            Delivery::Sent(reply) => note!("test: sent to `{addr}`: {reply}"),
            other => {
                failed += 1;
                note!("test: not sent to `{addr}`: {other}");
            }
        }
    }
    if let Some(c) = conn {
        c.quit().await;
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn recipients(to: &[EmailAddress], settings: &Settings) -> anyhow::Result<Vec<EmailAddress>> {
    if !to.is_empty() {
        return Ok(to.to_vec());
    }
    let list: Vec<EmailAddress> = settings
        .preview
        .recipients
        .iter()
        .map(|a| {
            EmailAddress::parse(a).with_context(|| format!("`[preview] recipients` has `{a}`"))
        })
        .collect::<anyhow::Result<_>>()?;
    if list.is_empty() {
        anyhow::bail!(
            "no test recipients: pass addresses after `--test` or set `[preview] recipients`"
        );
    }
    Ok(list)
}
