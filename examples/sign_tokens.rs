//! Print one-click unsubscribe paths for subscriber ids FIRST..=LAST, signed
//! with `MAILROOM_WEB__SECRET` exactly as `mailroom send` signs them: the
//! token API, and the input `scripts/bench-web` feeds to `wrk`.
//!
//! Run: `MAILROOM_WEB__SECRET=… cargo run --example sign_tokens -- 1 1000 > paths.txt`
use std::io::{BufWriter, Write};

use anyhow::Context;
use mailroom::domain::SubscriberId;
use mailroom::token::{Purpose, sign};

fn main() -> anyhow::Result<()> {
    let secret = std::env::var("MAILROOM_WEB__SECRET")
        .context("set `MAILROOM_WEB__SECRET` to the secret `mailroom serve` uses")?;
    let mut args = std::env::args().skip(1).map(|a| a.parse::<i64>());
    let (Some(Ok(first)), Some(Ok(last))) = (args.next(), args.next()) else {
        anyhow::bail!("usage: sign_tokens FIRST LAST (subscriber ids)");
    };
    let mut out = BufWriter::new(std::io::stdout().lock());
    for id in first..=last {
        let token = sign(
            secret.as_bytes(),
            Purpose::Unsubscribe,
            SubscriberId::new(id),
        );
        writeln!(out, "/unsubscribe/{token}")?;
    }
    out.flush()?;
    Ok(())
}
