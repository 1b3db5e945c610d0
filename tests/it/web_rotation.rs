//! Secret rotation through the config: links signed with a secret listed in
//! `[web] previous_secrets_file` keep working after the secret changes.

use crate::common::project::{Project, SECRET, email};
use crate::common::sink::free_port;
use crate::common::web::{self, Server, post, show};
use mailroom::domain::SubscriberId;
use mailroom::token::{self, Purpose};

#[test]
fn links_signed_with_a_previous_secret_still_unsubscribe_after_rotation() {
    let mut p = Project::new(2, free_port());
    let port = web::configure(&mut p);
    let old = |id| {
        token::sign(
            SECRET.as_bytes(),
            Purpose::Unsubscribe,
            SubscriberId::new(id),
        )
    };
    p.set("MAILROOM_WEB__SECRET", "the-new-secret-after-rotation-0123");
    std::fs::write(p.path("previous"), format!("# rotated 2025-10\n{SECRET}\n")).unwrap();
    let first = Server::start(&p, port, &[]);
    let before = post(
        port,
        &format!("/unsubscribe/{}", old(1)),
        "List-Unsubscribe=One-Click",
    );
    assert_eq!(before.status, 400, "not yet listed as a previous secret");
    drop(first);

    let previous = p.path("previous").display().to_string();
    p.set("MAILROOM_WEB__PREVIOUS_SECRETS_FILE", &previous);
    let _second = Server::start(&p, port, &[]);
    let after = post(
        port,
        &format!("/unsubscribe/{}", old(1)),
        "List-Unsubscribe=One-Click",
    );
    assert_eq!(after.status, 200);
    assert_eq!(show(&p, &email(1))["status"], "unsubscribed");
    assert_eq!(show(&p, &email(2))["status"], "subscribed");
}
