//! Parse → render for each seed issue (the MIME step is added by `message`).
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
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
    let ctx = RenderContext {
        newsletter: &settings.newsletter,
        settings: &settings.render,
    };
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
}

criterion_group!(benches, parse_and_render);
criterion_main!(benches);
