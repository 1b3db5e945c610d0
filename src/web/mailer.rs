//! The confirmation email (double opt-in), queued by the subscribe handler
//! and delivered in the background through the same transport as `send`
//! (the outbox directory or the SMTP relay, via `transport`), so the form's
//! answer never waits on, or reveals anything through, the relay.
//!
//! The message is built with lettre's `MessageBuilder`, not the issue's
//! `MessageTemplate`: it is sent once per request, carries no per-recipient
//! slots, and must not carry List-Unsubscribe (it is not list mail). It is
//! DKIM-signed like the issue when `[dkim]` is configured.
use std::str::FromStr;

use anyhow::Context;
use lettre::message::{Mailbox, MultiPart};
use maud::html;
use tokio::sync::mpsc;

use crate::config::Settings;
use crate::domain::{EmailAddress, SubscriberId};
use crate::transport::{Delivery, Transport};

/// Confirmations waiting to be mailed; beyond this the form still answers
/// the same, and the person can ask again.
const QUEUE: usize = 1024;

struct Job {
    id: SubscriberId,
    to: EmailAddress,
    link: String,
}

/// The handle the subscribe handler uses.
#[derive(Clone)]
pub struct Mailer {
    tx: mpsc::Sender<Job>,
}

/// What the message says and who it is from.
struct Letter {
    name: String,
    from: Mailbox,
    envelope_from: lettre::Address,
    days: u32,
    dkim: Option<crate::message::dkim::Signer>,
}

impl Mailer {
    /// Starts the delivery task; it drains the queue and ends once every
    /// handle is dropped.
    pub fn start(settings: &Settings) -> anyhow::Result<(Self, tokio::task::JoinHandle<()>)> {
        let route = Transport::from_settings(settings, "confirm")?;
        let from = Mailbox::from_str(&settings.newsletter.from)
            .with_context(|| format!("`[newsletter] from` is `{}`", settings.newsletter.from))?;
        let letter = Letter {
            name: settings.newsletter.name.clone(),
            envelope_from: from.email.clone(),
            from,
            days: settings.web.confirm_token_days,
            dkim: crate::message::dkim::Signer::from_settings(&settings.dkim)?,
        };
        let (tx, rx) = mpsc::channel(QUEUE);
        let task = tokio::spawn(run(route, letter, rx));
        Ok((Self { tx }, task))
    }

    /// Queues a confirmation for subscriber `id` at `to` with `link`.
    pub fn queue(&self, id: SubscriberId, to: EmailAddress, link: String) {
        if self.tx.try_send(Job { id, to, link }).is_err() {
            tracing::warn!(subscriber = id.get(), "confirmation queue full; not mailed");
        }
    }
}

async fn run(route: Transport, letter: Letter, mut rx: mpsc::Receiver<Job>) {
    while let Some(job) = rx.recv().await {
        let outcome = match letter.build(&job) {
            Ok(bytes) => deliver(&route, &letter, &job, &bytes).await,
            Err(e) => Delivery::Failed {
                reply: format!("cannot build the message: {e}"),
                bounce: false,
            },
        };
        // Only the kind of outcome: reply text may quote the address.
        let kind = match outcome {
            Delivery::Sent(_) => "sent",
            Delivery::Deferred(_) | Delivery::Unconfirmed(_) | Delivery::NotTried(_) => "deferred",
            Delivery::Failed { .. } | Delivery::RelayRefused(_) => "failed",
        };
        if kind == "sent" {
            tracing::info!(subscriber = job.id.get(), "confirmation mailed");
        } else {
            tracing::warn!(
                subscriber = job.id.get(),
                outcome = kind,
                "confirmation not mailed"
            );
        }
    }
}

async fn deliver(route: &Transport, letter: &Letter, job: &Job, bytes: &[u8]) -> Delivery {
    let name = format!("{}-{}", job.id, crate::domain::now().unix_timestamp());
    route
        .send_one(&letter.envelope_from, &job.to, &name, bytes)
        .await
}

impl Letter {
    fn build(&self, job: &Job) -> anyhow::Result<Vec<u8>> {
        let to = Mailbox::new(None, lettre::Address::from_str(job.to.as_str())?);
        let (name, link, days) = (&self.name, &job.link, self.days);
        let text = format!(
            "Someone, hopefully you, asked to subscribe this address to {name}.\n\n\
             To confirm, open this link and press the button:\n\n{link}\n\n\
             The link works for {days} days. If you did not ask, ignore this \
             message: you will not be subscribed.\n"
        );
        let page = html! {
            p { "Someone, hopefully you, asked to subscribe this address to " (name) "." }
            p { a href=(link) { "Confirm your subscription" } }
            p { "The link works for " (days) " days. If you did not ask, ignore this message: \
                 you will not be subscribed." }
        };
        let message = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(format!("Confirm your subscription to {name}"))
            .message_id(None)
            .multipart(MultiPart::alternative_plain_html(text, page.into_string()))?;
        let bytes = message.formatted();
        Ok(match &self.dkim {
            Some(signer) => signer.sign_message(&bytes),
            None => bytes,
        })
    }
}
