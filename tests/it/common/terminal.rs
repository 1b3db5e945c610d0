//! Runs a mailroom command under a pseudo-terminal (util-linux `script`),
//! for the prompts that only appear on a terminal.
use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs `cmd` (its program, arguments, directory and environment; nothing
/// else is inherited but `PATH`) on a terminal, typing `answer` and Enter.
/// What the terminal showed is in the output's stdout.
pub fn on_a_terminal(cmd: &Command, answer: &str) -> Output {
    let line: Vec<String> = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| format!("'{}'", a.to_string_lossy()))
        .collect();
    let mut script = Command::new("script");
    script
        .args(["-qec", &line.join(" "), "/dev/null"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(dir) = cmd.get_current_dir() {
        script.current_dir(dir);
    }
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => script.env(k, v),
            None => script.env_remove(k),
        };
    }
    let mut child = script.spawn().expect("run `script` (util-linux)");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("{answer}\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    out
}
