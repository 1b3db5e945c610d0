//! Criterion benchmarks for the checker: `check_issue` on each seed issue,
//! next to pulldown-cmark's Markdown → HTML on the same body (a lower bound
//! for rendering, which also runs templates and CSS inlining).
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mailroom::check::{self, CheckContext};

const SEEDS: [(&str, &str); 3] = [
    (
        "620-clean",
        include_str!("../tests/fixtures/seeds/001_daec47276e9082ac.txt"),
    ),
    (
        "625-mojibake",
        include_str!("../tests/fixtures/seeds/000_8dcd2075dd7da271.txt"),
    ),
    (
        "628-draft",
        include_str!("../tests/fixtures/seeds/002_84f51de1dd2adc8d.txt"),
    ),
];

fn context() -> CheckContext {
    let settings = mailroom::config::from_sources(include_str!("../config.toml"), Vec::new())
        .expect("shipped config loads");
    CheckContext::new(&settings.check, settings.render.html_size_budget).expect("valid [check]")
}

fn check_group(c: &mut Criterion) {
    let ctx = context();
    let mut group = c.benchmark_group("check");
    for (name, text) in SEEDS {
        let issue = mailroom::issue::parse(name, text).expect("seed parses");
        group.bench_function(format!("check_issue/{name}"), |b| {
            b.iter(|| check::check_issue(black_box(&issue), None, &ctx))
        });
        group.bench_function(format!("markdown_to_html_baseline/{name}"), |b| {
            b.iter(|| {
                let parser = pulldown_cmark::Parser::new_ext(
                    black_box(issue.body()),
                    check::markdown_options(),
                );
                let mut html = String::with_capacity(issue.body().len() * 2);
                pulldown_cmark::html::push_html(&mut html, parser);
                html
            })
        });
    }
    group.bench_function("context_new", |b| b.iter(context));
    group.finish();
}

criterion_group!(benches, check_group);
criterion_main!(benches);
