//! The outbox is a rehearsal (issue 9, scenario 2): a send to the outbox
//! has a campaign of its own, so the first SMTP send of the issue still
//! mails everyone; `campaigns` lists both and `campaigns reset` retires one
//! while keeping its ledger.

use crate::common::project::{Project, clean_issue, stderr};
use crate::common::sink::{Sink, free_port, tally};

fn campaigns(p: &Project) -> Vec<serde_json::Value> {
    let out = p.run(&["campaigns", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("campaigns prints a JSON array")
}

#[test]
fn an_outbox_rehearsal_never_uses_up_the_real_send() {
    let port = free_port();
    let n = 4;
    let mut p = Project::new(n, port);
    p.set("MAILROOM_SEND__TRANSPORT", "outbox");
    let issue = clean_issue();
    // A rehearsal mails nobody, so it needs no confirmation.
    let out = p.run(&["send", issue.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("created the outbox rehearsal for issue 620"),
        "{}",
        stderr(&out)
    );
    let files = std::fs::read_dir(p.path("outbox/620")).unwrap().count();
    assert_eq!(files, n);
    let status = p.status();
    assert_eq!(
        (&status["transport"], &status["rehearsal"]),
        (&"outbox".into(), &true.into())
    );
    let text = p.run(&["status"]);
    assert!(
        String::from_utf8_lossy(&text.stdout).contains("transport: outbox (a rehearsal"),
        "{}",
        String::from_utf8_lossy(&text.stdout)
    );

    p.set("MAILROOM_SEND__TRANSPORT", "smtp");
    let sink = Sink::start(p.dir.path(), "dump", port, &[]);
    let out = p.send(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("created the campaign for issue 620"),
        "{}",
        stderr(&out)
    );
    let counts = tally([sink.messages().as_slice()]);
    assert_eq!(
        counts.len(),
        n,
        "the real send mailed everyone after the rehearsal"
    );
    assert!(counts.values().all(|&c| c == 1), "{counts:?}");
    let status = p.status();
    assert_eq!(
        (&status["transport"], &status["counts"]["sent"]),
        (&"smtp".into(), &(n as u64).into())
    );

    let listed = campaigns(&p);
    let kinds: Vec<_> = listed
        .iter()
        .map(|c| {
            (
                c["issue"].as_u64().unwrap(),
                c["transport"].as_str().unwrap(),
                c["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [(620, "smtp", "done"), (620, "outbox", "done")],
        "{listed:?}"
    );
    let table = p.run(&["campaigns"]);
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.contains("outbox*") && table.contains("a rehearsal: nobody was mailed"),
        "{table}"
    );
}

#[test]
fn a_reset_keeps_the_ledger_in_the_history_and_the_issue_starts_over() {
    let port = free_port();
    let n = 3;
    let p = Project::new(n, port);
    let sink = Sink::start(p.dir.path(), "dump", port, &[]);
    assert!(p.send(&[]).status.success());
    assert_eq!(
        p.send(&[]).status.code(),
        Some(0),
        "a rerun resumes a done campaign"
    );
    assert_eq!(sink.messages().len(), n, "and sends nothing");

    let refused = p.run(&["campaigns", "reset", "620"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("add `--yes` to confirm in a script"),
        "{}",
        stderr(&refused)
    );
    let reset = p.run(&["campaigns", "reset", "620", "--yes"]);
    assert!(reset.status.success(), "{}", stderr(&reset));
    assert!(
        String::from_utf8_lossy(&reset.stdout)
            .contains("reset the smtp campaign (3 recipients, 3 sent)")
    );

    let status = p.run(&["status", "620"]);
    assert_eq!(status.status.code(), Some(1));
    assert!(
        stderr(&status).contains("it was reset"),
        "{}",
        stderr(&status)
    );
    let listed = campaigns(&p);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["state"], "reset");
    assert_eq!(listed[0]["counts"]["sent"], n as u64, "the ledger is kept");

    let again = p.send(&[]);
    assert!(again.status.success(), "{}", stderr(&again));
    let counts = tally([sink.messages().as_slice()]);
    assert!(
        counts.values().all(|&c| c == 2),
        "the new campaign mailed everyone: {counts:?}"
    );
    let states: Vec<_> = campaigns(&p)
        .iter()
        .map(|c| c["state"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(states, ["done", "reset"]);
}
