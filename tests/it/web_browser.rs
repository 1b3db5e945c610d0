//! End to end in headless Chromium (driven through chromedriver with
//! fantoccini): subscribe on the form, confirm from the emailed link,
//! receive an issue, unsubscribe from its link, and be skipped next time.
//! Everything is real: `mailroom serve`, SQLite, Postfix's smtp-sink.

use std::time::{Duration, Instant};

use crate::common::chromium::Driver;
use crate::common::project::{Project, clean_issue, stderr};
use crate::common::sink::{Sink, free_port};
use crate::common::web::{self, Server, confirm_link, show};
use fantoccini::{Client, Locator};

const READER: &str = "browser.reader@example.com";

/// Waits until the sink holds a message for `to` whose subject contains
/// `subject`, and returns it.
fn wait_for_mail(sink: &Sink, to: &str, subject: &str) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let found = sink.messages().into_iter().find(|(rcpt, raw)| {
            rcpt == to
                && mail_parser::MessageParser::default()
                    .parse(raw)
                    .and_then(|m| m.subject().map(|s| s.contains(subject)))
                    == Some(true)
        });
        if let Some((_, raw)) = found {
            return raw;
        }
        assert!(
            Instant::now() < deadline,
            "no `{subject}` mail for `{to}` arrived"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until the page's `<h1>` starts with `want` (a click's navigation
/// may still be loading), and fails with the page source if it never does.
async fn heading(c: &Client, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(h1) = c.find(Locator::Css("h1")).await
            && h1.text().await.is_ok_and(|t| t.starts_with(want))
        {
            return;
        }
        if Instant::now() > deadline {
            let url = c
                .current_url()
                .await
                .map(|u| u.to_string())
                .unwrap_or_default();
            let source = c.source().await.unwrap_or_default();
            panic!("no `{want}` heading at `{url}`:\n{source:.3000}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Presses the page's only submit button.
async fn press(c: &Client) {
    c.find(Locator::Css("button[type=submit]"))
        .await
        .expect("a button")
        .click()
        .await
        .expect("click");
}

/// Checks what a person sees: labelled inputs, no sideways scrolling, and
/// the served stylesheet applied despite the strict CSP.
async fn check_page_quality(c: &Client) {
    let js = "const e = document.documentElement; return [
        [...document.querySelectorAll('input')].every(i => i.labels.length > 0),
        e.scrollWidth <= e.clientWidth,
        getComputedStyle(document.querySelector('button')).minHeight,
        document.documentElement.lang];";
    let v = c.execute(js, vec![]).await.expect("run the probe");
    assert_eq!(
        v,
        serde_json::json!([true, true, "44px", "en"]),
        "page quality probe"
    );
}

/// Issue 620 renumbered, so a second campaign can be sent.
fn second_issue(p: &Project) -> std::path::PathBuf {
    let text = std::fs::read_to_string(clean_issue()).unwrap();
    let next = text
        .replacen("Number: 620", "Number: 621", 1)
        .replacen("Rust 620", "Rust 621", 1);
    let path = p.path("621.md");
    std::fs::write(&path, next).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_subscribes_confirms_receives_an_issue_and_unsubscribes_in_a_real_browser() {
    let smtp = free_port();
    let mut p = Project::new(0, smtp);
    let port = web::configure(&mut p);
    let sink = Sink::start(p.dir.path(), "dump", smtp, &[]);
    let server = Server::start(&p, port, &[]);
    let driver = Driver::start();
    let c = driver.browser(&p.path("chromium-profile")).await;
    let base = format!("http://127.0.0.1:{port}");

    c.goto(&format!("{base}/subscribe"))
        .await
        .expect("open the form");
    check_page_quality(&c).await;
    c.find(Locator::Id("email"))
        .await
        .unwrap()
        .send_keys(READER)
        .await
        .unwrap();
    c.find(Locator::Id("name"))
        .await
        .unwrap()
        .send_keys("Browser Reader")
        .await
        .unwrap();
    press(&c).await;
    heading(&c, "Check your inbox").await;
    assert_eq!(show(&p, READER)["status"], "pending");

    let link = confirm_link(&wait_for_mail(&sink, READER, "Confirm your subscription"));
    c.goto(&link).await.expect("open the confirmation link");
    heading(&c, "Confirm your subscription").await;
    assert_eq!(
        show(&p, READER)["status"],
        "pending",
        "opening the link changed nothing"
    );
    press(&c).await;
    heading(&c, "You are subscribed").await;
    let shown = show(&p, READER);
    assert_eq!(shown["status"], "subscribed");
    assert_eq!(shown["name"], "Browser Reader");
    assert_eq!(shown["consent"]["source"], "web");
    assert_eq!(shown["consent"]["ip"], "127.0.0.1");
    assert_eq!(shown["consent"]["confirm_ip"], "127.0.0.1");
    assert!(shown["consent"]["confirmed_at"].is_string());

    let out = p.send(&[]);
    assert!(out.status.success(), "send failed: {}", stderr(&out));
    let issue = wait_for_mail(&sink, READER, "620");
    let msg = mail_parser::MessageParser::default().parse(&issue).unwrap();
    let text = msg.body_text(0).unwrap();
    let unsubscribe = text
        .split_whitespace()
        .find(|w| w.contains("/unsubscribe/"))
        .expect("an unsubscribe link in the text part")
        .trim_matches(['<', '>', '(', ')'])
        .to_owned();
    c.goto(&unsubscribe)
        .await
        .expect("open the unsubscribe link");
    check_page_quality(&c).await;
    assert_eq!(
        show(&p, READER)["status"],
        "subscribed",
        "opening the link changed nothing"
    );
    press(&c).await;
    heading(&c, "You are unsubscribed").await;
    let shown = show(&p, READER);
    assert_eq!(shown["status"], "unsubscribed");
    assert_eq!(
        shown["history"].as_array().unwrap().last().unwrap()["source"],
        "web"
    );

    let add = p.run(&["subscribers", "add", "other.reader@example.com"]);
    assert!(add.status.success(), "{}", stderr(&add));
    let next = second_issue(&p);
    let out = p.run(&["send", next.to_str().unwrap(), "--yes"]);
    assert!(out.status.success(), "second send failed: {}", stderr(&out));
    wait_for_mail(&sink, "other.reader@example.com", "621");
    let to_reader: Vec<_> = sink
        .messages()
        .into_iter()
        .filter(|(r, _)| r == READER)
        .collect();
    assert_eq!(
        to_reader.len(),
        2,
        "the reader got the confirmation and issue 620 only"
    );

    c.close().await.expect("close the browser");
    drop(server);
}
