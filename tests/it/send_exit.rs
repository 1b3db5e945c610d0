//! Exit codes as documented (issue 9, scenario 7): a relay that is
//! unreachable or answers 4xx at the start exits 75, and the message and
//! `status` agree about whether a campaign exists.
use crate::common::project::{Project, stderr};
use crate::common::sink::{Sink, free_port};

#[test]
fn an_unreachable_relay_exits_75_and_says_no_campaign_was_created() {
    let port = free_port();
    let p = Project::new(3, port);
    let out = p.send(&[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(75), "{err}");
    assert!(
        err.contains(&format!("the relay `127.0.0.1:{port}` is unreachable")),
        "{err}"
    );
    assert!(err.contains("no campaign was created"), "{err}");
    let status = p.run(&["status"]);
    assert_eq!(status.status.code(), Some(0));
    assert!(
        stderr(&status).contains("no campaigns yet"),
        "{}",
        stderr(&status)
    );
}

#[test]
fn a_4xx_greeting_exits_75_too() {
    let port = free_port();
    let p = Project::new(3, port);
    let sink = Sink::start(p.dir.path(), "busy", port, &["-r", "CONNECT"]);
    let out = p.send(&[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(75), "{err}");
    assert!(err.contains("no campaign was created"), "{err}");
    assert!(sink.messages().is_empty());
}
