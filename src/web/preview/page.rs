//! The preview page (maud): tabs for the email at 600 px and 375 px, in
//! dark mode, its plain-text part and headers, the issue's source with
//! numbered lines, and the checker's findings, each linked to its line.
//! A few lines of script switch tabs and reload when the events stream
//! announces a newer edition.
use std::sync::LazyLock;

use maud::{DOCTYPE, Markup, PreEscaped, html};
use regex::Regex;

use super::Edition;
use crate::model::Severity;
use crate::output::plural;

const STYLE: &str = r#"
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;background:#eef0f3;color:#1d2330}
header{background:#1d2330;color:#fff;padding:10px 16px}
header h1{font-size:16px;margin:0 0 4px}
header p{margin:0;font-size:13px;opacity:.85}
nav{display:flex;flex-wrap:wrap;gap:4px;padding:8px 16px 0;background:#d9dde4;position:sticky;top:0;z-index:1}
nav a{padding:6px 12px;border-radius:6px 6px 0 0;color:#1d2330;text-decoration:none;background:#c5cad3}
nav a.on{background:#eef0f3;font-weight:600}
section{display:none;padding:16px;scroll-margin-top:40px}
section.on{display:block}
iframe{border:1px solid #b8bec9;background:#fff;display:block;margin:0 auto}
pre{background:#fff;border:1px solid #b8bec9;padding:12px;overflow:auto;white-space:pre-wrap}
.src{background:#fff;border:1px solid #b8bec9;font:13px/1.5 ui-monospace,Menlo,Consolas,monospace;overflow:auto}
.src div{white-space:pre-wrap;padding:0 8px;scroll-margin-top:48px}
.src div:target{background:#fff3bf}
.src span.n{display:inline-block;width:4em;color:#8a93a3;user-select:none}
ul.findings{list-style:none;padding:0;margin:0}
ul.findings li{background:#fff;border-left:4px solid #c92a2a;margin:0 0 6px;padding:6px 10px}
ul.findings li.warning{border-color:#e8a300}
.problem{background:#fff5f5;border:1px solid #c92a2a;padding:12px}
"#;

const SCRIPT: &str = r#"
function fit(f){
  try{f.style.height=(f.contentDocument.documentElement.scrollHeight+4)+'px';}catch(e){}
}
function show(id){
  document.querySelectorAll('section').forEach(s=>s.classList.toggle('on',s.id===id));
  document.querySelectorAll('nav a').forEach(a=>a.classList.toggle('on',a.dataset.tab===id));
  const f=document.querySelector('section.on iframe');if(f)fit(f);
}
function route(){
  const h=location.hash.slice(1);
  if(/^L\d+$/.test(h)){show('source');const l=document.getElementById(h);if(l)l.scrollIntoView({block:'center'});}
  else show(document.getElementById(h)?h:'desktop');
}
addEventListener('hashchange',route);route();
// A frame in a hidden tab has no height when it loads: it is fitted again
// when its tab is shown.
document.querySelectorAll('iframe').forEach(f=>f.addEventListener('load',()=>fit(f)));
const events=new EventSource('/events');
events.addEventListener('version',e=>{if(e.data!==document.body.dataset.version)location.reload();});
"#;

/// The email frames run no script (the page reads them: same origin), and
/// their links open in a new tab.
const SANDBOX: &str = "allow-same-origin allow-popups allow-popups-to-escape-sandbox";

/// The tabs: (id, label).
const TABS: [(&str, &str); 7] = [
    ("desktop", "Desktop 600 px"),
    ("mobile", "Mobile 375 px"),
    ("dark", "Dark mode"),
    ("text", "Plain text"),
    ("headers", "Headers"),
    ("findings", "Findings"),
    ("source", "Source"),
];

/// The whole page for `edition`, number `version`.
pub fn index(version: u64, edition: &Edition) -> String {
    let (errors, warnings) = crate::check::count(&edition.findings);
    let title = match &edition.email {
        Ok(email) => email.subject.clone(),
        Err(_) => format!("{} does not render", edition.file),
    };
    let page: Markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Preview: " (title) }
                style { (PreEscaped(STYLE)) }
            }
            body data-version=(version) {
                header {
                    h1 { (title) }
                    p {
                        code { (edition.file) } " · "
                        (plural(errors as u64, "error")) ", " (plural(warnings as u64, "warning"))
                        " · reloads when the file changes"
                    }
                }
                nav {
                    @for (id, label) in TABS {
                        a href={ "#" (id) } data-tab=(id) {
                            (label)
                            @if id == "findings" && !edition.findings.is_empty() {
                                " (" (edition.findings.len()) ")"
                            }
                        }
                    }
                }
                (views(version, edition))
                (findings(edition))
                (source(&edition.source))
                script { (PreEscaped(SCRIPT)) }
            }
        }
    };
    page.into_string()
}

fn views(version: u64, edition: &Edition) -> Markup {
    match &edition.email {
        Ok(email) => html! {
            section id="desktop" { iframe sandbox=(SANDBOX) title="desktop" src={ "/email.html?v=" (version) } width="600" {} }
            section id="mobile" { iframe sandbox=(SANDBOX) title="mobile" src={ "/email.html?v=" (version) } width="375" {} }
            section id="dark" { iframe sandbox=(SANDBOX) title="dark" src={ "/email-dark.html?v=" (version) } width="600" {} }
            section id="text" { pre { (email.text) } }
            section id="headers" { pre { (email.headers) } }
        },
        Err(problem) => {
            let at = html! {
                @if problem.line > 0 {
                    " " a href={ "#L" (problem.line) } { "(line " (problem.line) ")" }
                }
            };
            html! {
                @for (id, _) in &TABS[..5] {
                    section id=(id) { p.problem { (problem.message) (at) } }
                }
            }
        }
    }
}

fn findings(edition: &Edition) -> Markup {
    html! {
        section id="findings" {
            @if edition.findings.is_empty() {
                p { "No findings: the checker is happy with this issue." }
            }
            ul.findings {
                @for d in &edition.findings {
                    @let class = if d.severity == Severity::Error { "error" } else { "warning" };
                    li class=(class) {
                        @if d.line > 0 {
                            a href={ "#L" (d.line) } { "line " (d.line) }
                            @if d.column > 0 { ":" (d.column) }
                            " "
                        }
                        strong { (class) "[" (d.rule) "]" } ": " (d.message)
                        @if let Some(fix) = &d.fix { br; small { "help: " (fix) } }
                    }
                }
            }
        }
    }
}

fn source(text: &str) -> Markup {
    html! {
        section id="source" {
            div.src {
                @for (i, line) in text.lines().enumerate() {
                    div id={ "L" (i + 1) } { span.n { (i + 1) } (line) }
                }
            }
        }
    }
}

/// A dark-mode media query, whatever else it tests.
static DARK_QUERY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\(\s*prefers-color-scheme\s*:\s*dark\s*\)").expect("valid regex")
});

/// The email as a reader in dark mode sees it: every
/// `(prefers-color-scheme: dark)` test made true, whatever the browser's
/// own setting, so the tab shows dark mode in any browser.
pub fn forced_dark(html: &str) -> String {
    DARK_QUERY
        .replace_all(html, "(min-width: 0px)")
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forced_dark_makes_every_dark_query_true_and_leaves_the_rest() {
        let html = "<style>@media (prefers-color-scheme: dark){a{color:#fff}}\
                    @media screen and (prefers-color-scheme:dark){b{}}\
                    @media (max-width: 600px){c{}}</style>";
        let dark = forced_dark(html);
        assert!(!dark.contains("prefers-color-scheme"), "{dark}");
        assert!(dark.contains("@media screen and (min-width: 0px){b{}}"));
        assert!(dark.contains("@media (max-width: 600px){c{}}"));
    }
}
