//! The environment layer: `MAILROOM_<SECTION>__<KEY>` variables, each
//! turned into the TOML value its key expects (a number, a boolean, a
//! comma-separated list, or text), and checked like a file value.
use super::error::{Problems, Source};
use super::file::check_value;
use super::keys::{self, KEYS, Key};

/// The variable that names the config file; not a setting.
pub const CONFIG_VAR: &str = "MAILROOM_CONFIG";

/// One setting from the environment.
#[derive(Debug)]
pub struct EnvValue {
    pub key: &'static Key,
    pub var: String,
    pub value: toml::Value,
}

/// Reads every `MAILROOM_…__…` variable in `env`, adding problems for
/// unknown names and bad values.
pub fn layer(
    env: impl IntoIterator<Item = (String, String)>,
    problems: &mut Problems,
) -> Vec<EnvValue> {
    let defaults = serde_json::to_value(super::Settings::default()).unwrap_or_default();
    let mut vars: Vec<(String, String)> = env
        .into_iter()
        .filter(|(k, _)| k.starts_with("MAILROOM_") && k != CONFIG_VAR)
        .collect();
    vars.sort();
    let mut out = Vec::new();
    for (var, raw) in vars {
        let place = Source::Env { var: var.clone() };
        let rest = &var["MAILROOM_".len()..];
        let Some((section, name)) = rest.split_once("__") else {
            // One underscore where two belong: `MAILROOM_SMTP_PORT`.
            if let Some(k) = KEYS
                .iter()
                .find(|k| format!("{}_{}", k.section, k.name).eq_ignore_ascii_case(rest))
            {
                problems.push(
                    place,
                    format!(
                        "not a setting: two underscores separate the section from the key, \
                         `{}`",
                        k.env_var()
                    ),
                );
            }
            continue;
        };
        let (section, name) = (section.to_ascii_lowercase(), name.to_ascii_lowercase());
        let Some(key) = keys::find(&section, &name) else {
            problems.push(place, unknown(&section, &name));
            continue;
        };
        let Some(value) = convert(&raw, &defaults[key.section][key.name]) else {
            problems.push(
                place,
                format!(
                    "`{raw}` is not {}",
                    expected(&defaults[key.section][key.name])
                ),
            );
            continue;
        };
        if let Err(why) = check_value(key.section, key.name, &value) {
            let why = if key.kind == keys::Kind::Secret {
                "is not a usable secret".to_owned()
            } else {
                why
            };
            problems.push(place, format!("`[{}] {}` {why}", key.section, key.name));
            continue;
        }
        out.push(EnvValue { key, var, value });
    }
    out
}

fn unknown(section: &str, name: &str) -> String {
    if !keys::SECTIONS.contains(&section) {
        return format!(
            "unknown setting: there is no section `[{section}]`{}",
            keys::suggestion(None, section)
        );
    }
    let near = keys::closest(
        name,
        KEYS.iter().filter(|k| k.section == section).map(|k| k.name),
    );
    match near.and_then(|n| keys::find(section, n)) {
        Some(k) => format!(
            "unknown setting `[{section}] {name}`; did you mean `{}`?",
            k.env_var()
        ),
        None => format!("unknown setting `[{section}] {name}`"),
    }
}

/// The text as the kind of value the default is.
fn convert(raw: &str, default: &serde_json::Value) -> Option<toml::Value> {
    use serde_json::Value as J;
    let t = raw.trim();
    Some(match default {
        J::Bool(_) => toml::Value::Boolean(match t.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" => false,
            _ => return None,
        }),
        J::Number(n) if n.is_f64() => toml::Value::Float(t.parse().ok()?),
        J::Number(_) => toml::Value::Integer(t.parse().ok()?),
        J::Array(items) if items.iter().any(|i| i.is_object()) => return None,
        J::Array(_) => toml::Value::Array(
            t.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.to_owned()))
                .collect(),
        ),
        _ => toml::Value::String(raw.to_owned()),
    })
}

fn expected(default: &serde_json::Value) -> &'static str {
    use serde_json::Value as J;
    match default {
        J::Bool(_) => "`true` or `false`",
        J::Number(n) if n.is_f64() => "a number",
        J::Number(_) => "a whole number",
        J::Array(_) => "settable from the environment; set it in the config file",
        _ => "text",
    }
}
