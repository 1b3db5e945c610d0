//! The naive sender that `scripts/bench-send` measures mailroom against:
//! every message is built from scratch with lettre's `MessageBuilder`
//! (personalized body, MIME assembly and quoted-printable encoding per
//! recipient) and sent through lettre's pooled transport, 16 at a time.
//! Not part of mailroom; it exists to make the benchmark's baseline runnable.
//!
//! Run: `cargo run --release --example naive_lettre_send -- 127.0.0.1 2525 20000 out/issue.html out/issue.txt`
use std::sync::Arc;

use anyhow::Context;
use lettre::message::MultiPart;
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

const CONCURRENCY: usize = 16;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [host, port, count, html, text] = args.as_slice() else {
        anyhow::bail!("usage: naive_lettre_send HOST PORT COUNT HTML_FILE TEXT_FILE");
    };
    let port: u16 = port.parse().context("PORT")?;
    let count: usize = count.parse().context("COUNT")?;
    let html: Arc<str> = std::fs::read_to_string(html).context("HTML_FILE")?.into();
    let text: Arc<str> = std::fs::read_to_string(text).context("TEXT_FILE")?.into();
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str())
        .port(port)
        .pool_config(PoolConfig::new().max_size(CONCURRENCY as u32))
        .build();
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    let mut tasks = JoinSet::new();
    let started = std::time::Instant::now();
    for i in 1..=count {
        let permit = permits.clone().acquire_owned().await?;
        let (transport, html, text) = (transport.clone(), html.clone(), text.clone());
        tasks.spawn(async move {
            let token = format!("naive-token-{i}");
            let message = Message::builder()
                .from("This Week in Rust <newsletter@this-week-in-rust.org>".parse()?)
                .to(format!("user{i}@example.test").parse()?)
                .subject("This Week in Rust 620")
                .message_id(Some(format!("<issue-620.{i}@this-week-in-rust.org>")))
                .multipart(MultiPart::alternative_plain_html(
                    text.replace("sample-token", &token),
                    html.replace("sample-token", &token),
                ))?;
            transport.send(message).await?;
            drop(permit);
            anyhow::Ok(())
        });
        while let Some(done) = tasks.try_join_next() {
            done??;
        }
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{count} messages in {secs:.2} s: {:.0} msg/s",
        count as f64 / secs
    );
    Ok(())
}
