//! The relay as SMTP has it (issue 10): HELO when EHLO is rejected,
//! PIPELINING when offered (and a refusal under it), IPv6
//! hosts, RFC 5321's long wait for the reply to the final `.`, a lost
//! reply counted as a possible duplicate, and `--dry-run` checking the
//! transport as `send` does.
use std::time::Duration;

use crate::common::project::{Project, stderr};
use crate::common::relay::{Relay, Script};
use crate::common::sink::{Sink, free_port, tally};

#[test]
fn a_relay_that_rejects_ehlo_is_greeted_with_helo_and_gets_the_mail() {
    let relay = Relay::start(Script {
        no_ehlo: true,
        ..Script::default()
    });
    let p = Project::new(3, relay.port);
    let out = p.send(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(relay.received().len(), 3);
    let verbs = relay.verbs.lock().unwrap().clone();
    assert!(
        verbs.contains(&"EHLO".to_owned()) && verbs.contains(&"HELO".to_owned()),
        "{verbs:?}"
    );
}

#[test]
fn dry_run_refuses_cleartext_to_a_remote_relay_as_send_does() {
    let mut p = Project::new(2, 25);
    p.set("MAILROOM_SMTP__HOST", "smtp.example.com");
    for extra in ["--dry-run", "--allow-old-issue"] {
        let out = p.send(&[extra]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{extra}: {err}");
        assert!(err.contains("allow_insecure"), "{extra}: {err}");
    }
}

#[test]
fn bracketed_and_bare_ipv6_relay_hosts_connect() {
    let port = free_port();
    let mut p = Project::new(2, port);
    let sink = Sink::start_on(p.dir.path(), "v6", "::1", port, &[]);
    for host in ["[::1]", "::1"] {
        p.set("MAILROOM_SMTP__HOST", host);
        let out = p.send(&[]);
        assert_eq!(out.status.code(), Some(0), "{host}: {}", stderr(&out));
        let _ = p.run(&["campaigns", "reset", "620", "--yes"]);
    }
    let counts = tally([sink.messages().as_slice()]);
    assert_eq!(counts.values().copied().collect::<Vec<_>>(), [2, 2]);
}

#[test]
fn a_relay_slower_than_the_command_timeout_to_answer_the_final_dot_gets_each_message_once() {
    let relay = Relay::start(Script {
        final_delay: Duration::from_secs(3),
        ..Script::default()
    });
    let mut p = Project::new(3, relay.port);
    // Far below the 3 s the relay takes after the `.`, as the old 30 s
    // timeout was below a slow relay's minutes.
    p.set("MAILROOM_SMTP__TIMEOUT_SECS", "1");
    let out = p.send(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(relay.received().len(), 3, "no resend");
    assert_eq!(p.status()["possible_duplicates"], 0);
}

#[test]
fn a_reply_lost_after_the_final_dot_counts_as_a_possible_duplicate() {
    let relay = Relay::start(Script {
        final_delay: Duration::from_secs(3),
        ..Script::default()
    });
    let mut p = Project::new(2, relay.port);
    p.set("MAILROOM_SMTP__DATA_TIMEOUT_SECS", "1");
    p.set("MAILROOM_SEND__MAX_ATTEMPTS", "2");
    p.set("MAILROOM_SEND__MAX_WAIT_SECS", "30");
    let out = p.send(&[]);
    // Both attempts time out: failed, each delivered twice by the relay.
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let got = relay.received();
    let dups = got.len() - 2;
    let status = p.status();
    let claimed = status["possible_duplicates"].as_u64().unwrap() as usize;
    assert_eq!((got.len(), claimed), (4, dups), "{status}");
    assert!(
        status["failures"]
            .to_string()
            .contains("may have been delivered"),
        "{status}"
    );
}

/// The relay's verdict on `to`: `user2@…` is refused as unknown.
fn refuse_user2(to: &str) -> Option<String> {
    to.starts_with("user2@")
        .then(|| "550 5.1.1 <user2>: Recipient address rejected: User unknown".to_owned())
}

/// Sends to 4 subscribers through a relay that offers PIPELINING and
/// refuses `user2@…` (and with `data_after_refusal`, takes DATA anyway);
/// checks the run ends "some failed" with the other 3 received once each.
fn send_past_a_refusal(data_after_refusal: bool) -> (Relay, Project) {
    let relay = Relay::start(Script {
        pipelining: true,
        data_after_refusal,
        rcpt: std::sync::Arc::new(refuse_user2),
        ..Script::default()
    });
    let p = Project::new(4, relay.port);
    let out = p.send(&[]);
    assert_eq!(out.status.code(), Some(3), "one failed: {}", stderr(&out));
    let got = relay.received();
    assert_eq!(got.len(), 3, "the others, once each: {got:?}");
    assert!(!got.iter().any(|r| r.starts_with("user2@")), "{got:?}");
    (relay, p)
}

#[test]
fn a_relay_that_offers_pipelining_gets_each_envelope_in_one_batch_and_a_refusal_keeps_the_session()
{
    let (relay, p) = send_past_a_refusal(false);
    let batched = relay.batched.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(batched, 4, "every envelope in one batch");
    let verbs = relay.verbs.lock().unwrap().clone();
    assert!(verbs.contains(&"RSET".to_owned()), "{verbs:?}");
    let status = p.status();
    assert_eq!(status["counts"]["failed"], 1, "{status}");
}

#[test]
fn a_relay_that_takes_data_after_refusing_the_recipient_gets_no_message_for_it() {
    // The session is dropped mid-DATA: had mailroom gone on (an empty
    // message, or RSET read as data), the relay would have recorded a
    // message for user2 or lost one of the others.
    send_past_a_refusal(true);
}

#[test]
fn a_relay_without_pipelining_gets_one_command_at_a_time() {
    let relay = Relay::start(Script::default());
    let p = Project::new(3, relay.port);
    let out = p.send(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(relay.received().len(), 3);
    assert_eq!(relay.batched.load(std::sync::atomic::Ordering::Relaxed), 0);
}
