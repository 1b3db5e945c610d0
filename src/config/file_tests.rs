//! Tests for secrets in the config file: refused under any spelling of the
//! key, named with its line and the variable to use, never echoed.
use super::super::{ConfigError, load_from};

fn load(toml: &str) -> Result<super::super::Loaded, ConfigError> {
    load_from(
        Some((std::path::Path::new("/srv/news/config.toml"), toml)),
        [],
        std::path::Path::new("/"),
    )
}

fn refused(toml: &str) -> String {
    let err = load(toml).expect_err(toml).to_string();
    assert!(!err.contains("hunter2"), "the secret is echoed: {err}");
    err
}

#[test]
fn a_smtp_password_is_refused_under_any_spelling_of_the_key() {
    for toml in [
        "[smtp]\npassword = \"hunter2\"\n",
        "[smtp]\n\"password\" = \"hunter2\"\n",
        "[smtp]\n'password' = \"hunter2\"\n",
        "[smtp]\nPassWord = \"hunter2\"\n",
        "[smtp]\n\"PASSWORD\" = \"hunter2\"\n",
        "[smtp]\n\" password \" = \"hunter2\"\n",
        "smtp.password = \"hunter2\"\n",
        "smtp = { host = \"relay\", password = \"hunter2\" }\n",
        "[\"smtp\"]\npassword = \"hunter2\"\n",
        "\"smtp.password\" = \"hunter2\"\n",
    ] {
        let err = refused(toml);
        assert!(
            err.contains("`[smtp] password` is a secret"),
            "{toml}: {err}"
        );
        assert!(err.contains("MAILROOM_SMTP__PASSWORD"), "{toml}: {err}");
        assert!(
            err.contains("`/srv/news/config.toml` line "),
            "{toml}: {err}"
        );
    }
}

#[test]
fn a_secret_in_any_section_or_nesting_is_refused_with_its_line() {
    let err = refused("[newsletter]\nname = \"N\"\n\n[web]\nSecret = \"hunter2\"\n");
    assert!(err.contains("line 5: `[web] secret` is a secret"), "{err}");
    assert!(err.contains("MAILROOM_WEB__SECRET"), "{err}");
    let err =
        refused("[newsletter]\nsocial = [{ name = \"x\", url = \"y\", passwd = \"hunter2\" }]\n");
    assert!(
        err.contains("`[newsletter] social.passwd` is a secret"),
        "{err}"
    );
    let err = refused("password = \"hunter2\"\n");
    assert!(err.contains("`password` is a secret"), "{err}");
    let err = refused("[[newsletter.social]]\nname = \"x\"\nurl = \"y\"\nsecret = \"hunter2\"\n");
    assert!(err.contains("line 4:"), "{err}");
}

#[test]
fn a_dkim_private_key_is_refused_and_pointed_at_the_environment() {
    for toml in [
        "[dkim]\nprivate_key = \"hunter2\"\n",
        "[dkim]\nprivate-key = \"hunter2\"\n",
        "dkim.\"Private_Key\" = \"hunter2\"\n",
    ] {
        let err = refused(toml);
        assert!(
            err.contains("`[dkim] private") && err.contains("MAILROOM_DKIM__PRIVATE_KEY"),
            "{err}"
        );
    }
}

#[test]
fn every_secret_is_reported_together_with_the_other_problems() {
    let err = load("[smtp]\npassword = \"hunter2\"\nprot = 1\n[web]\nsecret = \"hunter2\"\n")
        .unwrap_err();
    assert_eq!(err.problems.len(), 3, "{err}");
}

#[test]
fn a_secret_in_a_file_with_a_syntax_error_is_still_refused_and_never_quoted() {
    let err = refused("[smtp]\npassword = \"hunter2\"\nhost = \"unterminated\n");
    assert!(
        err.contains("line 2: `[smtp] password` is a secret"),
        "{err}"
    );
    assert!(
        err.contains("line 3:") && err.contains("fix the TOML syntax"),
        "{err}"
    );
    let err = refused("[smtp]\nhost = \"hunter2\n");
    assert!(err.contains("line 2:"), "{err}");
}

#[test]
fn keys_that_merely_mention_a_secret_are_ordinary() {
    let l = load("[web]\nsecret_file = \"k\"\nprevious_secrets_file = \"old\"\n").unwrap();
    assert_eq!(
        l.settings.web.secret_file.unwrap(),
        std::path::Path::new("/srv/news/k")
    );
}

#[test]
fn a_database_url_with_a_password_is_a_secret_in_the_file() {
    let err = refused("[database]\nurl = \"postgres://news:hunter2@db/news\"\n");
    assert!(err.contains("MAILROOM_DATABASE__URL"), "{err}");
}
