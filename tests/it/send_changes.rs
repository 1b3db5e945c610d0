//! The issue changed mid-campaign: a rerun with a different render refuses,
//! naming how many already got the earlier version, until
//! `--accept-changes`; then the rest get the new version and `status` says so.

use std::time::{Duration, Instant};

use crate::common::project::{Project, clean_issue, stderr};
use crate::common::sink::{Sink, free_port, tally};

#[test]
fn a_changed_issue_is_refused_mid_campaign_until_the_change_is_accepted() {
    let port = free_port();
    let n = 20;
    let mut p = Project::new(n, port);
    p.set("MAILROOM_SEND__RATE_PER_SECOND", "20");
    let sink = Sink::start(p.dir.path(), "dump", port, &[]);
    let original = std::fs::read_to_string(clean_issue()).unwrap();
    std::fs::write(p.path("issue.md"), &original).unwrap();
    let child = p.spawn(&["send", "issue.md", "--yes"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while sink.messages().is_empty() {
        assert!(Instant::now() < deadline, "the first run sent nothing");
        std::thread::sleep(Duration::from_millis(10));
    }
    let pid = child.id().to_string();
    let int = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status();
    assert!(int.unwrap().success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let sent = p.status()["counts"]["sent"].as_u64().unwrap();
    assert!(
        sent > 0 && sent < n as u64,
        "sent {sent} of {n} before Ctrl-C"
    );

    let edited = original.replacen("another issue", "another fine issue", 1);
    assert_ne!(edited, original, "the seed has the phrase");
    std::fs::write(p.path("issue.md"), edited).unwrap();
    let dry = p.run(&["send", "issue.md", "--dry-run"]);
    assert!(String::from_utf8_lossy(&dry.stdout).contains("--accept-changes"));
    let refused = p.run(&["send", "issue.md"]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    let want = format!("{sent} of {n} recipients already got the earlier version");
    assert!(stderr(&refused).contains(&want), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("--accept-changes"));
    assert_eq!(p.status()["counts"]["sent"], sent, "nothing more was sent");

    p.set("MAILROOM_SEND__RATE_PER_SECOND", "0");
    let accepted = p.run(&["send", "issue.md", "--accept-changes"]);
    assert!(accepted.status.success(), "{}", stderr(&accepted));
    let got = sink.messages();
    let counts = tally([got.as_slice()]);
    assert_eq!(counts.len(), n);
    assert!(counts.values().all(|&c| c == 1), "{counts:?}");
    let new_version = got
        .iter()
        .filter(|(_, m)| String::from_utf8_lossy(m).contains("another fine issue"))
        .count() as u64;
    assert_eq!(new_version, n as u64 - sent, "the rest got the new version");
    let status = p.status();
    assert_eq!(status["content_changes"][0]["sent_before"], sent);
    assert_eq!(status["content_changes"].as_array().unwrap().len(), 1);
    let text = p.run(&["status"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("changed mid-campaign"), "{text}");

    let again = p.run(&["send", "issue.md"]);
    assert!(
        again.status.success(),
        "the accepted version is now the campaign's"
    );
}
