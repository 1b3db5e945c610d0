//! `mailroom init [DIR]`: set up a newsletter directory (config.toml, the
//! store, the signing key, .gitignore lines); safe to rerun. Also the rule
//! for when a signing key may be created at all.
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::config::Settings;
use crate::output::{note, outln, warning};
use crate::store::{Opening, Store};

mod gitignore;

/// Set up a newsletter directory: config.toml, the store, the signing key.
///
/// Writes DIR/config.toml, short and commented: only what an editor must
/// set (every other key keeps its built-in default; `mailroom config` shows
/// them). Creates the store (mailroom.db) and the key that signs every
/// unsubscribe link (mailroom.secret), both readable by you only. Keeps them
/// and the outputs (out/, outbox/, *.bak) out of git: when DIR is in a git
/// checkout the lines are added to DIR/.gitignore, otherwise printed.
///
/// Safe to rerun: an existing config, store or key is kept and said so.
/// --force replaces the config (the old one is kept as config.toml.bak).
/// A store that already has subscribers but lost its key is an error,
/// never a fresh key: the links already sent were signed with the old one.
///
/// Examples:
///   mailroom init newsletter && cd newsletter
///   mailroom init                                  # the current directory
///   mailroom --config /etc/mailroom/config.toml init
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The directory to set up (created if missing); default: the
    /// directory of --config, else the current directory.
    pub dir: Option<PathBuf>,
    /// Replace an existing config.toml (the old one becomes config.toml.bak).
    #[arg(long)]
    pub force: bool,
}

/// Runs `init`; `config` is the global `--config`, if given.
pub fn run(args: Args, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let file = target(&args, config)?;
    let dir = file.parent().unwrap_or(Path::new("/")).to_owned();
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the directory `{}`", dir.display()))?;
    write_config(&file, args.force)?;
    let loaded = crate::config::load(Some(&file))?;
    let settings = &loaded.settings;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let (store, opening) = Store::create(&settings.database).await?;
        match opening {
            Opening::Created => say(
                "created",
                &settings.database.url.describe(),
                "the store, mode 0600",
            ),
            Opening::Existed => say(
                "kept",
                &settings.database.url.describe(),
                "the store exists",
            ),
        }
        let key = ensure_key(settings, &store, opening).await;
        store.close().await;
        key.map(|k| report_key(&k))
    })?;
    gitignore::update(&dir, settings)?;
    let given = args.dir.as_deref().or(config.and_then(Path::parent));
    next_steps(given.filter(|d| !d.as_os_str().is_empty() && *d != Path::new(".")));
    Ok(ExitCode::SUCCESS)
}

/// The config file to write: DIR/config.toml, or --config, or ./config.toml.
fn target(args: &Args, config: Option<&Path>) -> anyhow::Result<PathBuf> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    Ok(match (&args.dir, config) {
        (Some(_), Some(_)) => {
            anyhow::bail!("give either DIR or `--config PATH` to `mailroom init`, not both")
        }
        (Some(dir), None) => cwd.join(dir).join(crate::config::DEFAULT_PATH),
        (None, Some(file)) => cwd.join(file),
        (None, None) => cwd.join(crate::config::DEFAULT_PATH),
    })
}

/// Writes the template to `file`, unless one is there (then only with
/// `force`, keeping the old file as `.bak`).
fn write_config(file: &Path, force: bool) -> anyhow::Result<()> {
    use std::io::Write;
    let shown = file.display().to_string();
    if file.exists() {
        if !force {
            say("kept", &shown, "it exists; `--force` replaces it");
            return Ok(());
        }
        let mut bak = file.as_os_str().to_owned();
        bak.push(".bak");
        std::fs::rename(file, &bak).with_context(|| {
            format!(
                "cannot move `{shown}` aside to `{}`",
                Path::new(&bak).display()
            )
        })?;
        say(
            "moved",
            &shown,
            &format!("to `{}`", Path::new(&bak).display()),
        );
    }
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(file)
        .with_context(|| format!("cannot create `{shown}`"))?;
    out.write_all(crate::config::TEMPLATE.as_bytes())
        .with_context(|| format!("cannot write `{shown}`"))?;
    say(
        "wrote",
        &shown,
        "set [newsletter] and [web] before the first real send",
    );
    Ok(())
}

/// Opens the store, creating it when missing; a new store gets a new
/// signing key (unless one exists or `MAILROOM_WEB__SECRET` is set). For
/// the commands that add subscribers; says on stderr what it created.
pub async fn open_or_create(settings: &Settings) -> anyhow::Result<Store> {
    let (store, opening) = Store::create(&settings.database).await?;
    if opening == Opening::Created {
        note!("created the store `{}`", settings.database.url.describe());
        match ensure_key(settings, &store, opening).await {
            Ok(Key::Created(path)) => note!(
                "created the signing key `{}` (mode 0600); back it up with the store",
                path.display()
            ),
            Ok(_) => {}
            Err(e) => {
                store.close().await;
                return Err(e);
            }
        }
    }
    Ok(store)
}

/// What became of the signing key.
enum Key {
    /// `MAILROOM_WEB__SECRET` is set: no file is used.
    FromEnvironment,
    /// No `[web] secret_file` is configured.
    NotConfigured,
    Kept(PathBuf),
    Created(PathBuf),
}

/// Makes sure the signing key exists: kept when it does; created when the
/// store is new or has never had a subscriber or campaign (no link was
/// ever signed); otherwise an error, since a fresh key would break every
/// link already sent.
async fn ensure_key(settings: &Settings, store: &Store, opening: Opening) -> anyhow::Result<Key> {
    let web = &settings.web;
    if web.secret.is_some() {
        return Ok(Key::FromEnvironment);
    }
    let Some(path) = &web.secret_file else {
        return Ok(Key::NotConfigured);
    };
    if path.exists() {
        return Ok(Key::Kept(path.clone()));
    }
    let shown = path.display();
    if opening == Opening::Existed && store_is_used(store).await? {
        anyhow::bail!(
            "the store `{}` has subscribers or campaigns, but its signing key `{shown}` is \
             missing; every unsubscribe link already sent was signed with it, so restore it \
             from your backup. Only if it is truly lost, make a new one deliberately \
             (`(umask 077; openssl rand -hex 32 > {shown})`): links in issues already sent \
             will stop working",
            settings.database.url.describe()
        );
    }
    crate::token::create_key_file(path)?;
    Ok(Key::Created(path.clone()))
}

/// Says what became of the key, for `init`.
fn report_key(key: &Key) {
    match key {
        Key::FromEnvironment => say(
            "using",
            "MAILROOM_WEB__SECRET",
            "as the signing key; no key file needed",
        ),
        Key::NotConfigured => {}
        Key::Kept(path) => {
            say(
                "kept",
                &path.display().to_string(),
                "the signing key exists",
            );
            warn_if_readable(path);
        }
        Key::Created(path) => say(
            "created",
            &path.display().to_string(),
            "the key that signs unsubscribe links, mode 0600; back it up with the store",
        ),
    }
}

async fn store_is_used(store: &Store) -> anyhow::Result<bool> {
    let subscribers: u64 = store.counts().await?.iter().map(|(_, n)| n).sum();
    Ok(subscribers > 0 || store.latest_campaign().await?.is_some())
}

fn warn_if_readable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            warning!(
                "the signing key `{}` is readable by others (mode {mode:o}); \
                 run `chmod 600 {}`",
                path.display(),
                path.display()
            );
        }
    }
}

/// One line of what `init` did: `created  PATH  (why)`.
/// `init` does its work whatever happens to stdout: a write that fails is
/// dropped here (a closed pipe still ends the run with its exit status).
fn say(what: &str, subject: &str, note: &str) {
    let _ = outln!("{what:<8} {subject} ({note})");
}

/// What to do next; `dir` as the user gave it, when not the current one.
fn next_steps(dir: Option<&Path>) {
    let cd = dir.map(|d| format!("  cd {}\n", d.display()));
    let _ = outln!(
        "\nnext:\n{}{}\n{}\n{}",
        cd.unwrap_or_default(),
        "  mailroom subscribers add you@example.org   # or: subscribers import list.csv",
        "  mailroom send ISSUE.md --test              # to [preview] recipients",
        "  mailroom send ISSUE.md                     # to every subscriber"
    );
}
