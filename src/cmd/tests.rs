//! The command line as a whole: clap's own consistency checks, and help
//! text for every command and argument.
use clap::CommandFactory;

use super::Cli;
use super::line::QuickCli;

#[test]
fn the_command_line_passes_clap_s_own_checks() {
    Cli::command().debug_assert();
}

#[test]
fn every_command_and_argument_has_help_text() {
    let mut missing = Vec::new();
    walk(&Cli::command(), "mailroom", &mut missing);
    assert!(missing.is_empty(), "no help text: {missing:#?}");
}

fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
    if cmd.get_about().is_none() && cmd.get_long_about().is_none() {
        missing.push(path.to_owned());
    }
    for arg in cmd.get_arguments() {
        let builtin = matches!(arg.get_id().as_str(), "help" | "version");
        if !builtin && arg.get_help().is_none() && arg.get_long_help().is_none() {
            missing.push(format!("{path} {}", arg.get_id()));
        }
    }
    for sub in cmd.get_subcommands() {
        walk(sub, &format!("{path} {}", sub.get_name()), missing);
    }
}

#[test]
fn format_is_spelled_the_same_in_every_command() {
    let mut spellings = Vec::new();
    formats(&Cli::command(), "mailroom", &mut spellings);
    for (path, values) in &spellings {
        for v in values {
            assert!(
                ["table", "json", "csv", "toml"].contains(&v.as_str()),
                "`{path} --format {v}`: use table, json or csv"
            );
        }
        assert!(values.contains(&"json".to_owned()), "`{path}` has no json");
    }
    assert!(spellings.len() >= 5, "{spellings:?}");
}

/// Every output `--format` (`subscribers import --format` names the
/// layout of its input file, not an output).
fn formats(cmd: &clap::Command, path: &str, out: &mut Vec<(String, Vec<String>)>) {
    let output = path != "mailroom subscribers import";
    if let Some(arg) = cmd
        .get_arguments()
        .find(|a| output && a.get_id() == "format")
    {
        let values = arg.get_possible_values();
        out.push((
            path.to_owned(),
            values.iter().map(|v| v.get_name().to_owned()).collect(),
        ));
    }
    for sub in cmd.get_subcommands() {
        formats(sub, &format!("{path} {}", sub.get_name()), out);
    }
}

#[test]
fn the_quick_parse_gives_the_same_command_line_as_the_whole_one() {
    use clap::Parser;
    let lines: &[&[&str]] = &[
        &["render", "issue.md"],
        &["--config", "c.toml", "render", "issue.md", "--out", "o"],
        &["render", "issue.md", "-vv", "--log-format", "json"],
        &[
            "check",
            "issue.md",
            "--format",
            "json",
            "--allow",
            "empty-section",
        ],
        &["send", "issue.md", "--test"],
        &["status"],
        &["campaigns", "reset", "625"],
        &["campaigns", "pause", "625", "--transport", "smtp"],
        &["status", "--watch"],
        &["status", "625", "--watch", "5", "--format", "json"],
        &["subscribers", "show", "42"],
        &["subscribers", "add", "a@example.org"],
        &[
            "dkim",
            "keygen",
            "--selector",
            "s1",
            "--domain",
            "example.org",
        ],
        &["completions", "bash"],
        &["serve"],
    ];
    for line in lines {
        let argv = std::iter::once(&"mailroom").chain(line.iter());
        let whole = Cli::try_parse_from(argv.clone()).expect("parses");
        let quick = Cli::from(QuickCli::try_parse_from(argv).expect("parses quickly"));
        assert_eq!(format!("{quick:?}"), format!("{whole:?}"), "{line:?}");
    }
    for line in [
        &["render"][..],
        &["bogus"],
        &["render", "--bogus", "x"],
        &["--help"],
    ] {
        let argv = std::iter::once(&"mailroom").chain(line.iter());
        let whole = Cli::try_parse_from(argv.clone()).expect_err("refused");
        let quick = QuickCli::try_parse_from(argv).expect_err("refused quickly");
        assert_eq!(quick.kind(), whole.kind(), "{line:?}");
    }
}

#[test]
fn the_quick_command_line_passes_clap_s_own_checks() {
    QuickCli::command().debug_assert();
}
