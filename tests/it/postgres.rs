//! Every command on PostgreSQL, through the real binary: import (with a bad
//! row), list, send over SMTP, status, `serve`'s one-click unsubscribe and
//! double opt-in; and the password rule (never in the file, never shown).
use std::time::{Duration, Instant};

use crate::common::pg;
use crate::common::project::{Project, email, stderr};
use crate::common::sink::{Sink, free_port};
use crate::common::web::{self, Server, confirm_link, list_unsubscribe_url, path_of, post, show};

#[test]
fn import_send_status_and_serve_work_on_postgres() {
    let smtp = free_port();
    let mut p = Project::postgres(3, smtp);
    let web_port = web::configure(&mut p);
    let sink = Sink::start(p.dir.path(), "dump", smtp, &[]);
    std::fs::write(
        p.path("more.csv"),
        "email\nuser4@example.com\nnot-an-address\n",
    )
    .unwrap();
    let import = p.run(&["subscribers", "import", "more.csv"]);
    // A rejected row: exit status 65, the rest imported.
    assert_eq!(import.status.code(), Some(65), "{}", stderr(&import));
    let summary = String::from_utf8_lossy(&import.stdout).into_owned() + &stderr(&import);
    assert!(
        summary.contains("added 1") && summary.contains("rejected 1"),
        "{summary}"
    );
    let listed = p.run(&["subscribers", "list"]);
    assert_eq!(
        String::from_utf8_lossy(&listed.stdout)
            .matches("@example.com")
            .count(),
        4
    );

    let out = p.send(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(sink.messages().len(), 4);
    let status = p.status();
    assert_eq!(status["counts"]["sent"], 4);
    assert_eq!(status["runs"], 1);

    let raw = sink
        .messages()
        .into_iter()
        .find(|(rcpt, _)| *rcpt == email(2))
        .expect("user2's copy")
        .1;
    let mut server = Server::start(&p, web_port, &[]);
    let url = list_unsubscribe_url(&raw);
    let done = post(web_port, &path_of(&url), "List-Unsubscribe=One-Click");
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(show(&p, &email(2))["status"], "unsubscribed");

    let asked = post(web_port, "/subscribe", "email=new%40example.com&website=");
    assert_eq!(asked.status, 200);
    let deadline = Instant::now() + Duration::from_secs(20);
    let letter = loop {
        let found = sink
            .messages()
            .into_iter()
            .find(|(r, _)| r == "new@example.com");
        if let Some((_, raw)) = found {
            break raw;
        }
        assert!(Instant::now() < deadline, "no confirmation mailed");
        std::thread::sleep(Duration::from_millis(50));
    };
    let confirmed = post(web_port, &path_of(&confirm_link(&letter)), "");
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    assert_eq!(show(&p, "new@example.com")["status"], "subscribed");
    assert_eq!(server.stop().code(), Some(0));
}

#[test]
fn a_database_password_in_the_config_file_is_refused_and_a_wrong_one_is_never_shown() {
    let mut p = Project::postgres(0, free_port());
    let url = p
        .env
        .iter()
        .find(|(k, _)| k == "MAILROOM_DATABASE__URL")
        .unwrap()
        .1
        .clone();
    let with_password = url.replace("mailroom@", &format!("mailroom:{}@", pg::PASSWORD));
    let config = std::fs::read_to_string(p.path("config.toml"))
        .unwrap()
        .replace(
            "url = \"sqlite://mailroom.db\"",
            &format!("url = \"{with_password}\""),
        );
    std::fs::write(p.path("config.toml"), config).unwrap();
    p.env.retain(|(k, _)| k != "MAILROOM_DATABASE__URL");
    let out = p.run(&["subscribers", "list"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("MAILROOM_DATABASE__PASSWORD"), "{err}");
    assert!(!err.contains(pg::PASSWORD), "{err}");

    // The URL from the environment may carry it; a wrong one is named
    // without being shown.
    p.set(
        "MAILROOM_DATABASE__URL",
        &url.replace("mailroom@", "mailroom:hunter2@"),
    );
    p.env.retain(|(k, _)| k != "MAILROOM_DATABASE__PASSWORD");
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml"),
        p.path("config.toml"),
    )
    .unwrap();
    let out = p.run(&["subscribers", "list"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("mailroom:***@127.0.0.1"), "{err}");
    assert!(err.contains("MAILROOM_DATABASE__PASSWORD"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn people_commands_work_on_postgres_one_identity_search_export_and_erase() {
    let p = Project::postgres(2, free_port());
    let ok = |args: &[&str]| {
        let out = p.run(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    ok(&[
        "subscribers",
        "add",
        "Ann.Reader@Bücher.example",
        "--name",
        "Ann",
    ]);
    let again = ok(&["subscribers", "add", "ann.reader@xn--bcher-kva.example"]);
    assert!(again.contains("already subscribed"), "{again}");
    let found = ok(&["subscribers", "search", "ANN.READER"]);
    assert_eq!(found.matches("Ann.Reader@").count(), 1, "{found}");
    std::fs::write(p.path("people.csv"), ok(&["subscribers", "export"])).unwrap();
    let back = ok(&["subscribers", "import", "people.csv"]);
    assert!(back.contains("added 0"), "{back}");
    let erased = ok(&["subscribers", "erase", "ANN.READER@bücher.example", "--yes"]);
    assert!(erased.contains("erased `Ann.Reader@"), "{erased}");
    let refused = p.run(&["subscribers", "add", "ann.reader@bücher.example"]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("erased on request"),
        "{}",
        stderr(&refused)
    );
    let listed = ok(&["subscribers", "list"]);
    assert!(!listed.to_lowercase().contains("ann.reader"), "{listed}");
    assert_eq!(listed.matches("@example.com").count(), 2, "{listed}");
}
