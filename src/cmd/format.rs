//! `--format`, spelled the same in every command: `table` for people (the
//! default; `text` is accepted too), `json` and `csv` for programs.
//! Commands with output of another shape keep the same words for the same
//! things: `check` has `table|json`, `subscribers export` `json|csv`,
//! `config` `toml|json` (its output is itself a config file).

/// What a listing prints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    #[default]
    #[value(alias = "text")]
    Table,
    /// JSON for programs.
    Json,
    /// CSV with a header row, for spreadsheets.
    Csv,
}
