//! Per recipient, on the largest seed issue: personalize unsigned, and
//! personalize + DKIM-sign through the per-issue plan (RSA-2048, then RSA +
//! Ed25519), against signing each personalized copy whole (what a generic
//! signer does: canonicalize and hash the whole body every time), and the
//! bare RSA-2048 signature, the floor.
use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use mailroom::domain::EmailAddress;
use mailroom::message::dkim::{PrivateKey, Signer};
use mailroom::message::{MessageContext, MessageTemplate, RecipientSlots};
use mailroom::render::{RenderContext, render_issue};

const SEED: &str = include_str!("../tests/fixtures/seeds/000_8dcd2075dd7da271.txt");
const RSA: &str = include_str!("../tests/fixtures/dkim/rsa.pem");
const ED25519: &str = include_str!("../tests/fixtures/dkim/ed25519.pem");

fn signer(ed: bool) -> Signer {
    let key = PrivateKey::from_pem(RSA.as_bytes()).expect("fixture key");
    let s = Signer::new("this-week-in-rust.org", "rsa", key).expect("valid names");
    if ed {
        let key = PrivateKey::from_pem(ED25519.as_bytes()).expect("fixture key");
        s.with_second("ed", key).expect("valid selector")
    } else {
        s
    }
}

fn per_recipient(c: &mut Criterion) {
    let settings = mailroom::config::from_sources(include_str!("../config.toml"), [])
        .expect("shipped config parses");
    let msg_ctx = MessageContext::from_settings(&settings, time::OffsetDateTime::UNIX_EPOCH)
        .expect("shipped config has valid headers");
    let issue = mailroom::issue::parse("issue.md", SEED).expect("parses");
    let rendered = render_issue(&issue, &RenderContext::new(&settings)).expect("renders");
    let template = MessageTemplate::build(&rendered, &msg_ctx).expect("builds");
    let rsa = Arc::new(signer(false));
    let signed = template.clone().signed(rsa.clone());
    let both = template.clone().signed(Arc::new(signer(true)));
    let to = EmailAddress::parse("reader@example.com").expect("valid");
    let slots = RecipientSlots::new(&msg_ctx, issue.header.number, to, "1.c2FtcGxlLXRva2Vu")
        .expect("valid slots");
    let mut buffer = Vec::new();
    let mut group = c.benchmark_group("dkim_per_recipient");
    for (name, t) in [
        ("unsigned", &template),
        ("rsa", &signed),
        ("rsa_ed25519", &both),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                buffer.clear();
                t.personalize_into(black_box(&slots), &mut buffer);
                buffer.len()
            })
        });
    }
    group.bench_function("rsa_whole_message", |b| {
        b.iter(|| {
            buffer.clear();
            template.personalize_into(black_box(&slots), &mut buffer);
            rsa.sign_message(&buffer).len()
        })
    });
    let key = PrivateKey::from_pem(RSA.as_bytes()).expect("fixture key");
    let rng = ring::rand::SystemRandom::new();
    let header_data = vec![b'h'; 900];
    group.bench_function("rsa2048_signature_only", |b| {
        b.iter(|| key.sign(&rng, black_box(&header_data)).len())
    });
    group.finish();
}

criterion_group!(benches, per_recipient);
criterion_main!(benches);
