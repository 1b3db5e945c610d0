//! `subscribers erase`: the confirmation (terminal, `--yes`, no terminal),
//! what is removed, and the keyed-hash suppression that keeps `add`,
//! imports and the web form from bringing the person back.
use std::process::Stdio;

use crate::support::{Env, summary};

const SECRET: &str = "0123456789abcdef0123456789abcdef";

#[test]
fn erase_asks_refuses_without_a_terminal_and_blocks_every_way_back() {
    let env = Env::new();
    let run = |args: &[&str]| {
        env.command(args)
            .env("MAILROOM_WEB__SECRET", SECRET)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    assert!(
        run(&["subscribers", "add", "Gone@Example.test", "--name", "Ann"])
            .status
            .success()
    );
    let refused = run(&["subscribers", "erase", "gone@example.test"]);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("no terminal") && err.contains("--yes"),
        "{err}"
    );
    assert_eq!(env.list().len(), 1, "refused, yet something changed");

    let done = run(&["subscribers", "erase", "gone@example.test", "--yes"]);
    let said = String::from_utf8_lossy(&done.stdout);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(said.contains("erased `Gone@example.test`"), "{said}");
    assert!(
        said.contains("the name") && said.contains("1 history entry"),
        "{said}"
    );
    assert!(said.contains("kept:    a keyed hash"), "{said}");
    assert!(env.list().is_empty());

    // The store holds no trace of the address in any spelling.
    let db = std::fs::read(env.dir.path().join("mailroom.db")).unwrap();
    let text = String::from_utf8_lossy(&db).to_lowercase();
    assert!(!text.contains("gone@example.test"));

    let add = run(&["subscribers", "add", "GONE@example.test"]);
    assert!(!add.status.success());
    assert!(String::from_utf8_lossy(&add.stderr).contains("erased on request"));
    let file = env.write(
        "again.csv",
        b"email,name\ngone@EXAMPLE.test,Ann\nnew@example.test,\n",
    );
    let import = run(&["subscribers", "import", file.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&import.stdout);
    assert_eq!(summary(&out), [1, 0, 0, 1, 0], "{out}");
    let list = env.list();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["email"], "new@example.test");

    // Without the secret, the store cannot tell, so it refuses to add.
    let blind = env.run(&["subscribers", "add", "someone@example.test"]);
    assert!(!blind.status.success());
    assert!(String::from_utf8_lossy(&blind.stderr).contains("MAILROOM_WEB__SECRET"));
}

/// Runs `mailroom subscribers erase EMAIL` under a pseudo-terminal
/// (util-linux `script`), typing `answer`.
fn erase_on_a_terminal(env: &Env, email: &str, answer: &str) -> (bool, String) {
    let mut cmd = env.command(&["subscribers", "erase", email]);
    cmd.env("MAILROOM_WEB__SECRET", SECRET);
    let out = crate::common::terminal::on_a_terminal(&cmd, answer);
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn on_a_terminal_erase_asks_and_only_yes_erases() {
    let env = Env::new();
    env.ok(&["subscribers", "add", "ann@example.test"]);
    let (ok, text) = erase_on_a_terminal(&env, "ann@example.test", "no");
    assert!(!ok, "{text}");
    assert!(text.contains("erase `ann@example.test`?"), "{text}");
    assert!(text.contains("nothing erased"), "{text}");
    assert_eq!(env.list().len(), 1);
    let (ok, text) = erase_on_a_terminal(&env, "ann@example.test", "yes");
    assert!(ok, "{text}");
    assert!(text.contains("erased `ann@example.test`"), "{text}");
    assert!(env.list().is_empty());
}

#[test]
fn an_erased_address_is_refused_by_the_web_form_and_after_a_secret_rotation() {
    use mailroom::domain::{Consent, EmailAddress, Source};
    use mailroom::store::{AddOutcome, EraseOutcome, Store, SubscribeRequest};
    use mailroom::token::Keyring;
    let env = Env::new();
    let old = Keyring::new(SECRET.as_bytes().to_vec(), vec![]);
    let rotated = Keyring::new(
        b"fedcba9876543210fedcba9876543210".to_vec(),
        vec![SECRET.as_bytes().to_vec()],
    );
    let email = EmailAddress::parse("Web.Reader@Bücher.test").unwrap();
    let now = mailroom::domain::now();
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = Store::open(&env.db_url())
            .await
            .unwrap()
            .with_erasure_keys(&old);
        let consent = Consent::new(Source::Cli, now);
        store
            .add_subscriber(&email, None, consent.clone())
            .await
            .unwrap();
        assert!(matches!(
            store.erase(&email).await.unwrap(),
            EraseOutcome::Erased(_)
        ));
        store.close().await;

        let store = Store::open_durable(&env.db_url())
            .await
            .unwrap()
            .with_erasure_keys(&rotated);
        let puny = EmailAddress::parse("web.reader@xn--bcher-kva.test").unwrap();
        let asked = store
            .request_subscription(&puny, Some("W"), None, now, 100)
            .await
            .unwrap();
        assert_eq!(asked, SubscribeRequest::Erased);
        assert_eq!(
            store.add_subscriber(&puny, None, consent).await.unwrap(),
            AddOutcome::Erased
        );
        assert_eq!(
            store.erase(&puny).await.unwrap(),
            EraseOutcome::AlreadyErased
        );
        assert!(store.confirmation_queue().await.unwrap().is_empty());
        assert!(store.list(None, None, 10).await.unwrap().is_empty());
        store.close().await;
    });
}
