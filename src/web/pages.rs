//! The service's HTML pages, rendered with maud: one layout (lang, viewport,
//! the newsletter's name, a served stylesheet) and one function per page.
//! Forms post to their own URL, so no page carries a token it was not given.
use axum::response::Html;
use maud::{DOCTYPE, Markup, html};

/// A rendered page, ready to answer with.
pub type Page = Html<String>;

/// What every page shows besides its content.
#[derive(Debug, Clone)]
pub struct PageContext {
    /// `[newsletter] name`.
    pub name: String,
    /// `[newsletter] privacy_url`.
    pub privacy_url: String,
}

fn layout(ctx: &PageContext, title: &str, body: Markup) -> Page {
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) " · " (ctx.name) }
                link rel="stylesheet" href="/style.css";
            }
            body {
                header { p { (ctx.name) } }
                main { (body) }
                footer { p { a href=(ctx.privacy_url) { "Privacy policy" } } }
            }
        }
    };
    Html(page.into_string())
}

/// GET `/unsubscribe/{token}`: a button; nothing changes until it is pressed.
pub fn unsubscribe_ask(ctx: &PageContext) -> Page {
    let body = html! {
        h1 { "Unsubscribe from " (ctx.name) "?" }
        p { "You will get no more issues by email." }
        form method="post" { button type="submit" name="confirm" value="yes" { "Unsubscribe" } }
    };
    layout(ctx, "Unsubscribe", body)
}

/// After an unsubscribe: done, with a button that undoes it.
pub fn unsubscribed(ctx: &PageContext, undo_token: &str) -> Page {
    let body = html! {
        h1 { "You are unsubscribed" }
        p { "You will get no more issues of " (ctx.name) " by email." }
        p.hint { "Clicked by mistake?" }
        form method="post" action={ "/resubscribe/" (undo_token) } {
            button type="submit" { "Undo: keep me subscribed" }
        }
    };
    layout(ctx, "Unsubscribed", body)
}

/// GET `/resubscribe/{token}`: a button.
pub fn resubscribe_ask(ctx: &PageContext) -> Page {
    let body = html! {
        h1 { "Subscribe again to " (ctx.name) "?" }
        form method="post" { button type="submit" { "Keep me subscribed" } }
    };
    layout(ctx, "Subscribe again", body)
}

/// After a confirmation or an undo.
pub fn subscribed(ctx: &PageContext) -> Page {
    let body = html! {
        h1 { "You are subscribed" }
        p { "The next issue of " (ctx.name) " will arrive in your inbox." }
    };
    layout(ctx, "Subscribed", body)
}

/// GET `/subscribe`: the form, with an error above it when `error` is set.
pub fn subscribe_form(ctx: &PageContext, error: Option<&str>) -> Page {
    let body = html! {
        h1 { "Subscribe to " (ctx.name) }
        p { "One email a week. We will send you a link to confirm." }
        @if let Some(e) = error { p.error role="alert" id="form-error" { (e) } }
        form method="post" action="/subscribe" {
            label for="email" { "Email address" }
            input type="email" id="email" name="email" required autocomplete="email"
                aria-describedby=[error.map(|_| "form-error")];
            label for="name" { "Name " span.hint { "(optional)" } }
            input type="text" id="name" name="name" autocomplete="name" maxlength="200";
            div.trap aria-hidden="true" {
                label for="website" { "Leave this field empty" }
                input type="text" id="website" name="website" tabindex="-1" autocomplete="off";
            }
            button type="submit" { "Subscribe" }
        }
    };
    layout(ctx, "Subscribe", body)
}

/// After POST `/subscribe`, whatever the address's state. `delayed` when
/// the relay is not taking mail now: the request is saved and the message
/// goes out once it is back.
pub fn check_inbox(ctx: &PageContext, delayed: bool) -> Page {
    let body = html! {
        h1 { "Check your inbox" }
        p { "If the address can subscribe, a message with a confirmation link is on its way. \
             The link is valid for a few days." }
        @if delayed {
            p.hint { "Our mail server is slow to answer right now, so it may take a while: \
                      your request is saved, and the message goes out as soon as it can." }
        }
    };
    layout(ctx, "Check your inbox", body)
}

/// POST `/subscribe` when the confirmation queue is full: nothing saved.
pub fn cannot_send_now(ctx: &PageContext) -> Page {
    let body = html! {
        h1 { "We can't send confirmation emails right now" }
        p { "Too many are waiting to go out. Nothing was saved: please try again later." }
    };
    layout(ctx, "Please try again later", body)
}

/// A request body over `[web] max_body_bytes`.
pub fn too_large(ctx: &PageContext) -> Page {
    let body = html! {
        h1 { "That was too much to send" }
        p { "The request was larger than any form here sends. Nothing was changed." }
    };
    layout(ctx, "Too large", body)
}

/// A request that did not arrive in time.
pub fn too_slow(ctx: &PageContext) -> Page {
    let body = html! {
        h1 { "That took too long" }
        p { "The request did not arrive in time. Nothing was changed: please try again." }
    };
    layout(ctx, "Too slow", body)
}

/// GET `/confirm/{token}`: a button.
pub fn confirm_ask(ctx: &PageContext) -> Page {
    let body = html! {
        h1 { "Confirm your subscription to " (ctx.name) }
        form method="post" { button type="submit" { "Confirm subscription" } }
    };
    layout(ctx, "Confirm", body)
}

/// Any link whose token does not verify, for whatever reason.
pub fn invalid_link(ctx: &PageContext) -> Page {
    let body = html! {
        h1 { "This link does not work" }
        p { "It may be incomplete or out of date. Copy the whole link from the email, \
             or use the link in a more recent email." }
    };
    layout(ctx, "Link not valid", body)
}

/// A request the service cannot handle now (rate limit, store trouble).
pub fn try_later(ctx: &PageContext) -> Page {
    let body = html! {
        h1 { "Please try again in a moment" }
        p { "We could not handle that just now. Nothing was changed." }
    };
    layout(ctx, "Try again", body)
}

/// 404.
pub fn not_found(ctx: &PageContext) -> Page {
    let body = html! { h1 { "Page not found" } };
    layout(ctx, "Not found", body)
}
