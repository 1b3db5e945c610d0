//! The confirmation email (double opt-in), built and delivered through the
//! same transport as `send` (the outbox directory or the SMTP relay, via
//! `transport`). The durable queue and its retries live in
//! [`super::confirmations`]; this file only builds and delivers one message.
//!
//! The message is built with lettre's `MessageBuilder`, not the issue's
//! `MessageTemplate`: it is sent once per request, carries no per-recipient
//! slots, and must not carry List-Unsubscribe (it is not list mail). It is
//! DKIM-signed like the issue when `[dkim]` is configured.
use std::str::FromStr;

use anyhow::Context;
use lettre::message::{Mailbox, MultiPart};
use maud::html;

use crate::config::Settings;
use crate::domain::{EmailAddress, SubscriberId};
use crate::transport::{Delivery, Transport};

/// One confirmation to deliver.
pub struct Job {
    pub id: SubscriberId,
    pub to: EmailAddress,
    pub link: String,
}

/// Builds and delivers confirmations.
pub struct Mailer {
    route: Transport,
    letter: Letter,
}

/// What the message says and who it is from.
struct Letter {
    name: String,
    from: Mailbox,
    /// `[bounces] address` (each confirmation gets its VERP address) and
    /// the key that signs the tags; without it, the From address.
    bounce: Option<(EmailAddress, Vec<u8>)>,
    days: u32,
    dkim: Option<crate::message::dkim::Signer>,
}

impl Mailer {
    /// Checks the transport settings and the sender.
    pub fn new(settings: &Settings) -> anyhow::Result<Self> {
        let route = Transport::from_settings(settings, "confirm")?;
        let from = Mailbox::from_str(&settings.newsletter.from)
            .with_context(|| format!("`[newsletter] from` is `{}`", settings.newsletter.from))?;
        let bounce = match settings.bounces.mailbox()? {
            Some(b) => Some((
                b,
                crate::token::load_secret(&settings.web)?
                    .ok_or_else(crate::token::missing_secret)?,
            )),
            None => None,
        };
        let letter = Letter {
            name: settings.newsletter.name.clone(),
            bounce,
            from,
            days: settings.web.confirm_token_days,
            dkim: crate::message::dkim::Signer::from_settings(&settings.dkim)?,
        };
        Ok(Self { route, letter })
    }

    /// Builds and delivers one confirmation.
    pub async fn deliver(&self, job: &Job) -> Delivery {
        match self.letter.build(job) {
            Ok(bytes) => deliver(&self.route, &self.letter, job, &bytes).await,
            Err(e) => Delivery::Failed {
                reply: format!("cannot build the message: {e}"),
                bounce: false,
            },
        }
    }
}

async fn deliver(route: &Transport, letter: &Letter, job: &Job, bytes: &[u8]) -> Delivery {
    let name = format!("{}-{}", job.id, crate::domain::now().unix_timestamp());
    let from = match &letter.bounce {
        Some((bounce, secret)) => {
            crate::token::verp::envelope_sender(secret, Some(bounce), bounce, None, job.id)
        }
        None => letter.from.email.clone(),
    };
    route.send_one(&from, &job.to, &name, bytes).await
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
