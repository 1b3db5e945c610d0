//! The subscribe form: GET shows it, POST records a pending subscriber and
//! queues a confirmation email. The answer to a POST is the same page
//! whatever the address's state (new, pending, subscribed, suppressed,
//! rate-limited, caught by the honeypot), so the form reveals nothing.
use super::client_ip::ClientIp;
use std::sync::Arc;
use std::time::Instant;

use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{App, pages};
use crate::domain::{EmailAddress, now};
use crate::store::SubscribeRequest;
use crate::token::Purpose;

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

/// POST `/subscribe`.
pub async fn submit(
    State(app): State<Arc<App>>,
    ClientIp(ip): ClientIp,
    form: Result<Form<SubscribeForm>, FormRejection>,
) -> Response {
    if !app.per_ip.allow(ip, Instant::now()) {
        let page = pages::try_later(&app.page);
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "60")],
            page,
        )
            .into_response();
    }
    let Ok(Form(form)) = form else {
        return bad_form(&app, "Please enter your email address.");
    };
    let Ok(email) = EmailAddress::parse(&form.email) else {
        return bad_form(&app, "That does not look like an email address.");
    };
    let done = pages::check_inbox(&app.page).into_response();
    if !form.website.is_empty() || !app.per_address.allow(email.clone(), Instant::now()) {
        return done;
    }
    let name = Some(form.name.trim()).filter(|n| !n.is_empty() && n.len() <= 200);
    match app
        .store
        .request_subscription(&email, name, Some(ip), now())
        .await
    {
        Ok(SubscribeRequest::Confirm(id)) => {
            let token = app.keys.sign(Purpose::Confirm, id, now() + app.token_life);
            let link = format!("{}/confirm/{token}", app.public_url);
            app.mailer.queue(id, email, link);
            done
        }
        Ok(SubscribeRequest::AlreadySubscribed(_) | SubscribeRequest::Suppressed(_)) => done,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "subscribe failed");
            (StatusCode::SERVICE_UNAVAILABLE, pages::try_later(&app.page)).into_response()
        }
    }
}

fn bad_form(app: &App, message: &str) -> Response {
    let page = pages::subscribe_form(&app.page, Some(message));
    (StatusCode::BAD_REQUEST, page).into_response()
}
