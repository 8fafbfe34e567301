use std::path::PathBuf;
use std::process::ExitCode;

use blindvault_server::store::Store;
use blindvault_server::{Config, audit};

/// Arguments of `blindvault audit`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: AuditCommand,
}

/// Audit subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum AuditCommand {
    /// Walk the hash chain of the audit log; exit 2 and name the first bad row if it is broken.
    Verify(VerifyArgs),
}

/// Where the database is.
#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// Data directory of an embedded SQLite server [default: ./data].
    #[arg(long, env = "BLINDVAULT_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL (overrides --data-dir).
    #[arg(long, env = "BLINDVAULT_DATABASE_URL")]
    pub database_url: Option<String>,
    /// An anchor printed by an earlier `audit verify` (`SEQ:HASH`), kept outside the database;
    /// repeatable. Fails (exit 2) if the chain up to that row was rewritten since.
    #[arg(long = "anchor", value_name = "SEQ:HASH")]
    pub anchors: Vec<String>,
    /// A file holding anchors: every `anchor=SEQ:HASH` (the server's `audit head` log lines;
    /// `"anchor":"SEQ:HASH"` in a JSON log) and
    /// `anchor: SEQ:HASH` (this command's output) in it is checked; repeatable.
    #[arg(long = "anchors-from", value_name = "FILE")]
    pub anchor_files: Vec<PathBuf>,
}

/// A log line without its terminal colour codes (`ESC [ … letter`).
fn without_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // Skip to the end of the control sequence.
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Every anchor in a log or a saved `audit verify` output; a file without any is an error (it
/// would otherwise check nothing while looking like it did).
fn anchors_in(path: &std::path::Path) -> anyhow::Result<Vec<audit::Anchor>> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let parse = |token: &str| {
            token.parse::<audit::Anchor>().map_err(|e| anyhow::anyhow!("{}:{}: {e}", path.display(), n + 1))
        };
        // Only the places an anchor is written: a client's request path, also logged, may hold
        // "anchor=" and must not count (nor abort the check).
        if line.trim_start().starts_with('{') {
            // A JSON log: the audit head's own line.
            let v = serde_json::from_str::<serde_json::Value>(line).unwrap_or_default();
            let fields = v.get("fields");
            if fields.and_then(|f| f.get("message")).and_then(|m| m.as_str()) == Some("audit head")
                && let Some(a) = fields.and_then(|f| f.get("anchor")).and_then(|a| a.as_str())
            {
                found.push(parse(a)?);
            }
            continue;
        }
        let line = without_ansi(line);
        let token = |after: &str| -> String {
            after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == ':').collect()
        };
        if let Some(rest) = line.trim_start().strip_prefix("anchor: ") {
            // `audit verify`'s output.
            found.push(parse(&token(rest))?);
        } else if let Some(at) = line.find("audit head ") {
            // The server's text log: `audit head anchor=SEQ:HASH`.
            let mut rest = line.get(at..).unwrap_or("");
            while let Some(i) = rest.find(" anchor=") {
                let after = rest.get(i + " anchor=".len()..).unwrap_or("");
                found.push(parse(&token(after))?);
                rest = after;
            }
        }
    }
    if found.is_empty() {
        anyhow::bail!(
            "{}: no anchors in it (expected lines with `anchor=SEQ:HASH` or `anchor: SEQ:HASH`)",
            path.display()
        );
    }
    Ok(found)
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let AuditCommand::Verify(v) = args.command;
    // Parsed here rather than by clap, so that a mistyped anchor exits 1 (usage), not 2 (broken).
    let mut anchors = v
        .anchors
        .iter()
        .map(|a| a.parse::<audit::Anchor>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    for f in &v.anchor_files {
        anchors.extend(anchors_in(f)?);
    }
    anchors.sort_by(|a, b| (a.seq, &a.hash).cmp(&(b.seq, &b.hash)));
    anchors.dedup();
    for pair in anchors.windows(2) {
        if let [a, b] = pair
            && a.seq == b.seq
        {
            // Two different hashes for one row cannot both be right: the input is wrong,
            // whatever the database says.
            anyhow::bail!("two anchors for row {} disagree ({a} and {b}): check where they were kept", a.seq);
        }
    }
    let mut config = Config::default();
    if let Some(d) = v.data_dir {
        config.data_dir = d;
    }
    config.database_url = v.database_url;
    let url = config.database_url();
    if url.starts_with("sqlite")
        && !config.data_dir.join("blindvault.db").exists()
        && config.database_url.is_none()
    {
        anyhow::bail!("no database at {}", config.data_dir.join("blindvault.db").display());
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async move {
        let store = Store::connect(&url, 1).await?;
        let report = audit::verify_with_anchors(&store, &anchors).await?;
        store.close_reader().await;
        match report.first_bad {
            None => {
                let checked = match anchors.len() {
                    0 => String::new(),
                    1 => ", and matches its anchor".to_owned(),
                    n => format!(", and matches its {n} anchors"),
                };
                println!("audit chain OK: {} rows{checked}", report.rows);
                if let Some(head) = report.head {
                    println!("anchor: {head}");
                    println!(
                        "  (keep it outside the database; `blindvault audit verify --anchor {head}` later fails if \
                         the log up to row {} was rewritten)",
                        head.seq
                    );
                }
                Ok(ExitCode::SUCCESS)
            }
            Some(bad) => {
                println!("audit chain BROKEN at row {}: {}", bad.seq, bad.reason);
                Ok(ExitCode::from(2))
            }
        }
    })
}
