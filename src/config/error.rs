//! Configuration problems, collected so one run reports all of them, each
//! with where it is (file and line, or environment variable) and the fix.
use std::fmt;
use std::path::PathBuf;

/// Where a setting came from, or where a problem is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "source", rename_all = "lowercase")]
pub enum Source {
    /// The built-in default.
    Default,
    /// The config file, at this line when known.
    File {
        path: PathBuf,
        #[serde(skip_serializing_if = "Option::is_none")]
        line: Option<usize>,
    },
    /// This environment variable.
    Env { var: String },
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File {
                path,
                line: Some(n),
            } => write!(f, "`{}` line {n}", path.display()),
            Source::File { path, line: None } => write!(f, "`{}`", path.display()),
            Source::Env { var } => write!(f, "environment `{var}`"),
        }
    }
}

/// One thing wrong with the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where it is (`Default` when it is about the settings as a whole).
    pub place: Source,
    /// What is wrong and how to fix it, in the project's voice.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.place {
            Source::Default => f.write_str(&self.message),
            _ => write!(f, "{}: {}", self.place, self.message),
        }
    }
}

/// Every problem found in one load; nothing is used until all are fixed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problems.as_slice() {
            [one] => write!(f, "{one}"),
            many => {
                write!(f, "{} problems in the configuration:", many.len())?;
                for p in many {
                    write!(f, "\n  {p}")?;
                }
                Ok(())
            }
        }
    }
}

/// Collects problems while loading.
#[derive(Debug, Default)]
pub(crate) struct Problems(pub Vec<Problem>);

impl Problems {
    pub fn push(&mut self, place: Source, message: impl Into<String>) {
        self.0.push(Problem {
            place,
            message: message.into(),
        });
    }

    /// `Ok(())` when nothing was found.
    pub fn into_result(self) -> Result<(), ConfigError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ConfigError { problems: self.0 })
        }
    }
}
