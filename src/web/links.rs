//! The token links: unsubscribe (with undo) and confirm. A GET shows a
//! button and changes nothing; the POST acts. A token that does not verify,
//! whatever the reason, gets [`invalid`], the one answer for all of them.
use super::client_ip::ClientIp;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::metrics_labels::{StoreOp, UnsubscribeVia};
use super::{App, pages};
use crate::domain::{Source, Status, StatusChange, SubscriberId, now};
use crate::store::{Confirmation, Transition};
use crate::token::Purpose;

/// The RFC 8058 body a mail client POSTs for one-click unsubscribe.
const ONE_CLICK: &[u8] = b"List-Unsubscribe=One-Click";

type TokenPath = Result<Path<String>, PathRejection>;

/// The subscriber a path's token names, if it verifies for `purpose` now.
fn verified(app: &App, purpose: Purpose, path: TokenPath) -> Option<SubscriberId> {
    let Path(token) = path.ok()?;
    app.keys.verify(purpose, &token, now())
}

fn page(markup: pages::Page) -> Response {
    markup.into_response()
}

/// The answer to every bad token.
pub fn invalid(app: &App) -> Response {
    (StatusCode::BAD_REQUEST, pages::invalid_link(&app.page)).into_response()
}

fn try_later(app: &App, what: &str, e: &anyhow::Error) -> Response {
    // Store errors here are about ids, never addresses or tokens.
    tracing::error!(error = format!("{e:#}"), "{what} failed");
    (StatusCode::SERVICE_UNAVAILABLE, pages::try_later(&app.page)).into_response()
}

/// GET `/unsubscribe/{token}`.
pub async fn unsubscribe_ask(State(app): State<Arc<App>>, path: TokenPath) -> Response {
    match verified(&app, Purpose::Unsubscribe, path) {
        Some(_) => page(pages::unsubscribe_ask(&app.page)),
        None => invalid(&app),
    }
}

/// POST `/unsubscribe/{token}`: the button, or a mail client's one-click.
pub async fn unsubscribe(
    State(app): State<Arc<App>>,
    path: TokenPath,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Some(id) = verified(&app, Purpose::Unsubscribe, path) else {
        return invalid(&app);
    };
    let body = match body {
        Ok(b) => b,
        Err(e) => return super::ops::unreadable_body(&app, &e),
    };
    let (reason, via) = if body.trim_ascii() == ONE_CLICK {
        ("one-click", UnsubscribeVia::OneClick)
    } else {
        ("web form", UnsubscribeVia::Form)
    };
    match app.unsubscriber.unsubscribe(id, reason).await {
        Ok(done) => {
            if matches!(done, Transition::Changed { .. }) {
                app.metrics.unsubscribed(via);
            }
            let undo = app
                .keys
                .sign(Purpose::Resubscribe, id, now() + app.token_life);
            page(pages::unsubscribed(&app.page, &undo))
        }
        Err(e) => try_later(&app, "unsubscribe", &e),
    }
}

/// GET `/resubscribe/{token}`.
pub async fn resubscribe_ask(State(app): State<Arc<App>>, path: TokenPath) -> Response {
    match verified(&app, Purpose::Resubscribe, path) {
        Some(_) => page(pages::resubscribe_ask(&app.page)),
        None => invalid(&app),
    }
}

/// POST `/resubscribe/{token}`: undo an unsubscribe.
pub async fn resubscribe(State(app): State<Arc<App>>, path: TokenPath) -> Response {
    let Some(id) = verified(&app, Purpose::Resubscribe, path) else {
        return invalid(&app);
    };
    let change = StatusChange {
        reason: Some("undo unsubscribe".into()),
        ..StatusChange::now(Status::Subscribed, Source::Web)
    };
    let m = &app.metrics;
    match m
        .store(
            StoreOp::UndoUnsubscribe,
            app.store.undo_unsubscribe(id, &change),
        )
        .await
    {
        Ok(Transition::Changed { .. }) => {
            m.undone();
            page(pages::subscribed(&app.page))
        }
        Ok(Transition::Unchanged(_)) => {
            match m.store(StoreOp::StatusOf, app.store.status_of(id)).await {
                Ok(Some(Status::Subscribed)) => page(pages::subscribed(&app.page)),
                Ok(_) => invalid(&app),
                Err(e) => try_later(&app, "resubscribe", &e),
            }
        }
        Ok(Transition::NotFound) => invalid(&app),
        Err(e) => try_later(&app, "resubscribe", &e),
    }
}

/// GET `/confirm/{token}`.
pub async fn confirm_ask(State(app): State<Arc<App>>, path: TokenPath) -> Response {
    match verified(&app, Purpose::Confirm, path) {
        Some(_) => page(pages::confirm_ask(&app.page)),
        None => invalid(&app),
    }
}

/// POST `/confirm/{token}`: pending (or unsubscribed with an open request)
/// becomes subscribed; the consent keeps this time and IP.
pub async fn confirm(
    State(app): State<Arc<App>>,
    ClientIp(ip): ClientIp,
    path: TokenPath,
) -> Response {
    let Some(id) = verified(&app, Purpose::Confirm, path) else {
        return invalid(&app);
    };
    let confirm = app.store.confirm_subscription(id, Some(ip), now());
    match app
        .metrics
        .store(StoreOp::ConfirmSubscription, confirm)
        .await
    {
        Ok(Confirmation::Confirmed | Confirmation::AlreadySubscribed) => {
            page(pages::subscribed(&app.page))
        }
        Ok(Confirmation::NoRequest | Confirmation::NotFound) => invalid(&app),
        Err(e) => try_later(&app, "confirm", &e),
    }
}
