//! `blindvault invite`: single-use invite codes (registration is invite-only).

use std::process::ExitCode;

use blindvault_client::{ClientError, admin, broker};

use super::brokercommon::{AdminArgs, Format, block_on, finish, print_json, printable, with_step_up};

/// Arguments of `blindvault invite`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub admin: AdminArgs,
    #[command(subcommand)]
    pub command: InviteCommand,
}

/// Invite subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum InviteCommand {
    /// Make a single-use invite code and print a sign-up link that carries it.
    Create {
        /// The role the new account gets: user (default) or admin. An admin invite waits for
        /// a fresh passkey confirmation in the web app (a step-up), as a role change does.
        #[arg(long, default_value = "user", value_parser = ["user", "admin"])]
        role: String,
        /// How long the code works (at least 1m, at most 30d).
        #[arg(long, default_value = "7d")]
        expires: String,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// The invite codes made here, and who used them (never the codes themselves).
    List {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Revoke an unused invite code.
    Revoke {
        /// The invite id (from `invite list`; it may start with '-').
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    finish(body(args))
}

/// An invite's life from `--expires`: 1 minute to 30 days.
pub fn parse_expiry(s: &str) -> Result<u64, ClientError> {
    let secs = admin::parse_duration(s)?;
    if !(60..=30 * 86_400).contains(&secs) {
        return Err(ClientError::Input(format!("--expires {s}: an invite works from 1m to 30d")));
    }
    Ok(secs)
}

/// Unix seconds as an RFC 3339 UTC time (`2026-12-04T15:52:14Z`).
pub fn utc(secs: i64) -> String {
    blindvault_client::rfc3339_utc(u64::try_from(secs).unwrap_or(0))
}

fn body(args: Args) -> Result<(), ClientError> {
    let api = args.admin.client()?;
    match args.command {
        InviteCommand::Create { role, expires, format } => {
            let secs = parse_expiry(&expires)?;
            // An admin invite makes an admin: it needs a step-up (`invite.create`, target the
            // role), confirmed with a passkey in the web app. A user invite needs none.
            let i = if role == "admin" {
                with_step_up(&api, "invite.create", &role, |api| {
                    let role = role.clone();
                    async move { broker::invite_create(&api, &role, secs).await }
                })?
            } else {
                block_on(broker::invite_create(&api, &role, secs))?
            };
            let link = broker::signup_link(api.base(), &i.code);
            match format {
                Format::Json => print_json(&serde_json::json!({
                    "id": i.id, "code": i.code, "link": link, "role": i.role, "expires_at": i.expires_at,
                }))?,
                Format::Text => {
                    println!("{link}");
                    eprintln!("code {} ({}), works once until {}", i.code, i.role, utc(i.expires_at));
                    eprintln!("Give the link (or the code) to one person over a channel you trust.");
                }
            }
        }
        InviteCommand::List { format } => {
            let rows = block_on(broker::invite_list(&api))?;
            match format {
                Format::Json => print_json(&rows)?,
                Format::Text => {
                    if rows.is_empty() {
                        println!("no invites");
                    }
                    for r in rows {
                        println!(
                            "{}  {:<7}  {:<5}  until {}  {}",
                            printable(&r.id),
                            printable(&r.status),
                            printable(&r.role),
                            utc(r.expires_at),
                            match (&r.used_by, &r.created_by) {
                                (Some(u), _) => format!("used by {}", printable(u)),
                                (None, Some(c)) => format!("made by {}", printable(c)),
                                (None, None) => String::new(),
                            }
                        );
                    }
                }
            }
        }
        InviteCommand::Revoke { id } => {
            block_on(broker::invite_revoke(&api, &id))?;
            println!("revoked {}", printable(&id));
        }
    }
    Ok(())
}
