//! `blindvault approver`: enrol (sign) and remove approver devices.

use std::process::ExitCode;

use blindvault_client::{ClientError, admin, broker};

use super::brokercommon::{
    AdminArgs, Format, OrgDirArg, PassArg, block_on, confirm, finish, print_json, printable, with_step_up,
};

/// Arguments of `blindvault approver`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub admin: AdminArgs,
    #[command(flatten)]
    pub dir: OrgDirArg,
    #[command(subcommand)]
    pub command: ApproverCommand,
}

/// Approver subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum ApproverCommand {
    /// Print the invite link a new approver opens on their phone. Its fragment (after '#')
    /// carries the org public key, which browsers never send to the server: the device pins
    /// this key, not one the server hands it.
    ///
    /// Registration is invite-only: the link also carries a fresh single-use invite code (made
    /// with your command-line session), unless the person already has an account.
    Invite {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// The person already has an account here: make no invite code.
        #[arg(long)]
        existing_account: bool,
        /// How long the invite code works [default: 7d; at most 30d].
        #[arg(long, default_value = "7d")]
        expires: String,
    },
    /// Pending and approved devices, with fingerprints.
    List {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Sign a pending enrolment with the org key, after comparing its fingerprint with the one
    /// the device shows.
    Approve {
        /// The enrolment id (from `approver list`; it may start with '-').
        #[arg(allow_hyphen_values = true)]
        id: String,
        /// The fingerprint was compared with the device's: do not ask.
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        pass: PassArg,
    },
    /// Remove an approver device. Warns about entries that would fall below their quorum. Asks
    /// for a fresh confirmation with your passkey in the web app (a link is printed).
    Remove {
        /// The enrolment id (it may start with '-').
        #[arg(allow_hyphen_values = true)]
        id: String,
        /// Remove even if some entries fall below their quorum.
        #[arg(long)]
        yes: bool,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    finish(body(args))
}

fn body(args: Args) -> Result<(), ClientError> {
    if let ApproverCommand::Invite { format, existing_account, expires } = &args.command {
        let org = admin::org_public(&args.dir.path())?;
        let server = args.admin.server.server.as_deref().ok_or_else(|| {
            ClientError::Lease("no server: pass --server URL or set BLINDVAULT_SERVER".into())
        })?;
        let invite = if *existing_account {
            None
        } else {
            let secs = super::invite::parse_expiry(expires)?;
            let api = args.admin.client()?;
            Some(block_on(broker::invite_create(&api, "user", secs))?)
        };
        let link = broker::invite_link(server, &org, invite.as_ref().map(|i| i.code.as_str()));
        let fingerprint = org.fingerprint().to_string();
        match format {
            Format::Json => print_json(&serde_json::json!({
                "link": link,
                "org_fingerprint": fingerprint,
                "invite_id": invite.as_ref().map(|i| &i.id),
                "invite_expires_at": invite.as_ref().map(|i| i.expires_at),
            }))?,
            Format::Text => {
                println!("{link}");
                eprintln!("Send this link to the new approver over a channel you trust; their device shows");
                eprintln!(
                    "the organisation fingerprint {fingerprint} — it must match `blindvault org show`."
                );
                if let Some(i) = &invite {
                    eprintln!(
                        "The link carries a single-use invite code (id {}), valid until {}.",
                        printable(&i.id),
                        super::invite::utc(i.expires_at)
                    );
                }
            }
        }
        return Ok(());
    }
    let api = args.admin.client()?;
    match args.command {
        ApproverCommand::List { format } => {
            let org = admin::org_public(&args.dir.path())?;
            let rows = block_on(broker::approver_list(&api, &org))?;
            match format {
                Format::Json => print_json(&rows)?,
                Format::Text => {
                    if rows.is_empty() {
                        println!("no approvers and no pending enrolments");
                    }
                    for r in rows {
                        let sig = match r.signature_ok {
                            Some(true) => "",
                            Some(false) => "  SIGNATURE DOES NOT VERIFY UNDER THE LOCAL ORG KEY",
                            None => "",
                        };
                        let passkey = match r.synced {
                            Some(true) => "synced",
                            Some(false) => "device",
                            None => "unknown",
                        };
                        println!(
                            "{}  {:<8}  {:<7}  {}  {}{sig}",
                            printable(&r.id),
                            printable(&r.status),
                            passkey,
                            r.fingerprint,
                            printable(&r.user_name)
                        );
                    }
                }
            }
        }
        ApproverCommand::Approve { id, yes, pass } => {
            let pending = block_on(broker::pending_enrolment(&api, &id))?;
            println!(
                "approver:    {} (user {})",
                printable(&pending.view.user_name),
                printable(&pending.view.user_id)
            );
            println!("fingerprint: {}", pending.fingerprint);
            println!(
                "passkey:     {}",
                match (pending.view.backup_eligible, pending.view.backup_state) {
                    (Some(true), Some(true)) =>
                        "synced, and backed up now (its cloud account's sign-in and recovery can reach it)",
                    (Some(true), _) =>
                        "synced (backup-eligible: its cloud account's sign-in and recovery can reach it)",
                    (Some(false), _) => "device-bound (cannot be synced or backed up)",
                    (None, _) => "unknown (the server does not know this passkey's backup state)",
                }
            );
            if !yes && !confirm("Does this fingerprint match the one the device shows?") {
                return Err(ClientError::Lease(
                    "not confirmed: compare the fingerprint with the device's, then run again with --yes"
                        .into(),
                ));
            }
            let passphrase =
                admin::read_passphrase(pass.passphrase_file.as_deref(), "Org key passphrase: ", false)?;
            let org = admin::org_secret(&args.dir.path(), &passphrase)?;
            let view = block_on(broker::approve_enrolment(&api, &org, &pending))?;
            println!("{} is now an approver ({})", printable(&view.user_name), printable(&view.status));
        }
        ApproverCommand::Invite { .. } => {}
        ApproverCommand::Remove { id, yes } => {
            let impact = block_on(broker::approver_remove(&api, &id, true))?;
            if !impact.entries_below_quorum.is_empty() {
                eprintln!("warning: removing {id} leaves these entries below their quorum:");
                for e in &impact.entries_below_quorum {
                    eprintln!(
                        "  {}  needs {}, {} {} left",
                        e.entry_id,
                        e.threshold,
                        e.people_left,
                        if e.people_left == 1 { "person" } else { "people" }
                    );
                }
                if !yes {
                    return Err(ClientError::Lease(
                        "not removed: pass --yes to remove anyway (then rotate or re-write those entries)"
                            .into(),
                    ));
                }
            }
            with_step_up(&api, "approver.remove", &id, |api| {
                let id = id.clone();
                async move { broker::approver_remove(&api, &id, false).await }
            })?;
            println!("removed {}", printable(&id));
        }
    }
    Ok(())
}
