//! Per seed issue: parse → render, the whole parse → render → MIME template
//! job (`mailroom render`'s work, once per issue), and personalizing the
//! template for one recipient (the per-recipient cost of a send), and the
//! checker on the same parsed issue and rendered email, so check and render
//! costs read side by side.
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mailroom::check::{CheckContext, check_issue};
use mailroom::domain::EmailAddress;
use mailroom::message::{MessageContext, MessageTemplate, RecipientSlots};
use mailroom::render::{RenderContext, render_issue};

const SEEDS: [(&str, &str); 5] = [
    (
        "000",
        include_str!("../tests/fixtures/seeds/000_8dcd2075dd7da271.txt"),
    ),
    (
        "001",
        include_str!("../tests/fixtures/seeds/001_daec47276e9082ac.txt"),
    ),
    (
        "002",
        include_str!("../tests/fixtures/seeds/002_84f51de1dd2adc8d.txt"),
    ),
    (
        "003",
        include_str!("../tests/fixtures/seeds/003_7480672c79e93d81.txt"),
    ),
    (
        "004",
        include_str!("../tests/fixtures/seeds/004_09a664d404590bff.txt"),
    ),
];

fn parse_and_render(c: &mut Criterion) {
    let settings = mailroom::config::from_sources(include_str!("../config.toml"), [])
        .expect("shipped config parses");
    let ctx = RenderContext::new(&settings);
    let mut group = c.benchmark_group("parse_render");
    for (name, source) in SEEDS {
        group.bench_function(name, |b| {
            b.iter(|| {
                let issue = mailroom::issue::parse("issue.md", black_box(source)).expect("parses");
                render_issue(&issue, &ctx).expect("renders")
            })
        });
    }
    group.finish();

    let msg_ctx = MessageContext::from_settings(&settings, time::OffsetDateTime::UNIX_EPOCH)
        .expect("shipped config has valid headers");
    let mut group = c.benchmark_group("parse_render_mime");
    for (name, source) in SEEDS {
        group.bench_function(name, |b| {
            b.iter(|| {
                let issue = mailroom::issue::parse("issue.md", black_box(source)).expect("parses");
                let rendered = render_issue(&issue, &ctx).expect("renders");
                MessageTemplate::build(&rendered, &msg_ctx).expect("builds")
            })
        });
    }
    group.finish();

    let check_ctx = CheckContext::new(&settings.check, settings.render.html_size_budget)
        .expect("shipped [check] settings are valid");
    let mut group = c.benchmark_group("check");
    for (name, source) in SEEDS {
        let issue = mailroom::issue::parse("issue.md", source).expect("parses");
        let rendered = render_issue(&issue, &ctx).expect("renders");
        group.bench_function(name, |b| {
            b.iter(|| check_issue(black_box(&issue), Some(&rendered), &check_ctx))
        });
    }
    group.finish();

    let issue = mailroom::issue::parse("issue.md", SEEDS[0].1).expect("parses");
    let template = MessageTemplate::build(&render_issue(&issue, &ctx).expect("renders"), &msg_ctx)
        .expect("builds");
    let to = EmailAddress::parse("reader@example.com").expect("valid");
    let slots = RecipientSlots::new(&msg_ctx, issue.header.number, to, "c2FtcGxlLXRva2Vu")
        .expect("valid slots");
    let mut buffer = Vec::new();
    c.bench_function("personalize_one_recipient/000", |b| {
        b.iter(|| {
            buffer.clear();
            template.personalize_into(black_box(&slots), &mut buffer);
            buffer.len()
        })
    });
}

criterion_group!(benches, parse_and_render);
criterion_main!(benches);
