//! The subscribe form: GET shows it, POST validates it, records a pending
//! subscriber and queues a confirmation email in the store, in one
//! transaction. The answer to a valid POST is the same page whatever the
//! address's state (new, pending, subscribed, suppressed, rate-limited,
//! caught by the honeypot), so the form reveals nothing; when the queue is
//! full, every address gets the same honest 503 and nothing is stored.
use super::client_ip::ClientIp;
use std::sync::Arc;
use std::time::Instant;

use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::metrics_labels::{ConfirmationEvent, StoreOp, SubscribeOutcome as Outcome};
use super::{App, pages};
use crate::domain::{EmailAddress, now};
use crate::store::SubscribeRequest;

/// The form's fields; `website` is the honeypot, hidden from people.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SubscribeForm {
    email: String,
    name: String,
    website: String,
}

/// GET `/subscribe` (and `/`).
pub async fn form(State(app): State<Arc<App>>) -> Response {
    pages::subscribe_form(&app.page, None).into_response()
}

/// The longest address accepted (RFC 5321's path limit, less the brackets).
const MAX_EMAIL: usize = 254;
/// The longest name accepted, in characters (the form says so too).
const MAX_NAME: usize = 200;

/// POST `/subscribe`.
pub async fn submit(
    State(app): State<Arc<App>>,
    ClientIp(ip): ClientIp,
    form: Result<Form<SubscribeForm>, FormRejection>,
) -> Response {
    let m = &app.metrics;
    if !app.per_ip.allow(ip, Instant::now()) {
        m.subscribe(Outcome::Throttled);
        let page = pages::try_later(&app.page);
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "60")],
            page,
        )
            .into_response();
    }
    let form = match form {
        Ok(Form(form)) => form,
        Err(e) => {
            m.subscribe(Outcome::Invalid);
            return unreadable_form(&app, &e);
        }
    };
    let (email, name) = match validate(&form) {
        Ok(valid) => valid,
        Err(message) => {
            m.subscribe(Outcome::Invalid);
            return bad_form(&app, StatusCode::BAD_REQUEST, message);
        }
    };
    let cap = app.confirmations.cap;
    let honeypot = !form.website.is_empty();
    if honeypot || !app.per_address.allow(email.clone(), Instant::now()) {
        m.subscribe(match honeypot {
            true => Outcome::Honeypot,
            false => Outcome::Throttled,
        });
        // Nothing is stored, but the answer must match a real request's.
        let full = app.store.confirmation_queue_full(cap);
        return match m.store(StoreOp::QueueFull, full).await {
            Ok(false) => accepted(&app),
            Ok(true) => queue_full(&app),
            Err(e) => store_error(&app, &e),
        };
    }
    let request = app
        .store
        .request_subscription(&email, name, Some(ip), now(), cap);
    let (outcome, answer) = match m.store(StoreOp::RequestSubscription, request).await {
        Ok(SubscribeRequest::Confirm(_)) => {
            m.confirmation(ConfirmationEvent::Queued);
            app.confirmations.wake();
            (Outcome::Queued, accepted(&app))
        }
        Ok(SubscribeRequest::AlreadySubscribed(_)) => (Outcome::AlreadySubscribed, accepted(&app)),
        // An erased address is counted as suppressed: the label reveals nothing.
        Ok(SubscribeRequest::Suppressed(_) | SubscribeRequest::Erased) => {
            (Outcome::Suppressed, accepted(&app))
        }
        Ok(SubscribeRequest::QueueFull) => (Outcome::QueueFull, queue_full(&app)),
        Err(e) => (Outcome::StoreError, store_error(&app, &e)),
    };
    m.subscribe(outcome);
    answer
}

/// The address and the name (trimmed, `None` when empty), or what to tell
/// the person.
fn validate(form: &SubscribeForm) -> Result<(EmailAddress, Option<&str>), &'static str> {
    let email = form.email.trim();
    if email.is_empty() {
        return Err("Please enter your email address.");
    }
    if email.chars().count() > MAX_EMAIL {
        return Err("That address is too long: an email address has at most 254 characters.");
    }
    let Ok(email) = EmailAddress::parse(email) else {
        return Err("That does not look like an email address (like reader@example.com).");
    };
    let name = form.name.trim();
    if name.chars().count() > MAX_NAME {
        return Err("Please shorten the name to at most 200 characters.");
    }
    if name.chars().any(char::is_control) {
        return Err("The name cannot contain line breaks or other control characters.");
    }
    Ok((email, Some(name).filter(|n| !n.is_empty())))
}

/// The one answer to an accepted request, whatever the address's state.
fn accepted(app: &App) -> Response {
    pages::check_inbox(&app.page, !app.confirmations.relay_ok()).into_response()
}

fn queue_full(app: &App) -> Response {
    tracing::warn!("confirmation queue full; a subscribe request was turned away");
    let page = pages::cannot_send_now(&app.page);
    let retry = [(header::RETRY_AFTER, "600")];
    (StatusCode::SERVICE_UNAVAILABLE, retry, page).into_response()
}

fn store_error(app: &App, e: &anyhow::Error) -> Response {
    tracing::error!(error = format!("{e:#}"), "subscribe failed");
    (StatusCode::SERVICE_UNAVAILABLE, pages::try_later(&app.page)).into_response()
}

/// A form that could not be read at all.
fn unreadable_form(app: &App, e: &FormRejection) -> Response {
    match e {
        FormRejection::BytesRejection(b) => super::ops::unreadable_body(app, b),
        FormRejection::InvalidFormContentType(_) => bad_form(
            app,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "The form must be sent as application/x-www-form-urlencoded, as this page does.",
        ),
        _ => bad_form(
            app,
            StatusCode::BAD_REQUEST,
            "The form could not be read. Please fill it in again.",
        ),
    }
}

fn bad_form(app: &App, status: StatusCode, message: &str) -> Response {
    let page = pages::subscribe_form(&app.page, Some(message));
    (status, page).into_response()
}
