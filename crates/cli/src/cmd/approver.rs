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
    /// the device shows. Run it again on an approved one to renew it (a new `not_after`).
    Approve {
        /// The enrolment id (from `approver list`; it may start with '-').
        #[arg(allow_hyphen_values = true)]
        id: String,
        /// The fingerprint was compared with the device's: do not ask.
        #[arg(long)]
        yes: bool,
        /// How long the enrolment is valid (signed into it as `not_after`); approve the device
        /// again before then to renew it [at most 3650d].
        #[arg(long, default_value = "365d")]
        valid_for: String,
        #[command(flatten)]
        pass: PassArg,
    },
    /// Remove an approver device: the org key signs a new revocation record naming it (devices
    /// and consumers refuse it from then on, whatever the server says), then the server removes
    /// it — after a fresh confirmation with your passkey in the web app (a link is printed) — then
    /// every entry the device could open is rotated to a new version without it. Warns about
    /// entries that would fall below their quorum.
    Remove {
        /// The enrolment id (it may start with '-').
        #[arg(allow_hyphen_values = true)]
        id: String,
        /// Remove even if some entries fall below their quorum.
        #[arg(long)]
        yes: bool,
        /// The new value of an entry the device could open, from a file (exact bytes):
        /// ENTRY_ID=FILE. Repeat for each; without one, a terminal is asked.
        #[arg(long = "value-file", value_name = "ENTRY_ID=FILE", allow_hyphen_values = true)]
        value_files: Vec<String>,
        /// Do not rotate now (the device keeps its envelopes of the current versions until you
        /// run `blindvault secret rotate` for each entry listed).
        #[arg(long)]
        rotate_later: bool,
        #[command(flatten)]
        pass: PassArg,
    },
}

/// The longest enrolment `approver approve --valid-for` signs: 10 years.
const MAX_ENROLMENT_SECS: u64 = 3650 * 86_400;

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    finish(body(args))
}

fn body(args: Args) -> Result<(), ClientError> {
    if let ApproverCommand::Invite { format, existing_account, expires } = &args.command {
        let org = admin::org_public(&args.dir.path())?;
        let server = args.admin.server.server.as_deref().ok_or_else(|| {
            ClientError::Input("no server: pass --server URL or set BLINDVAULT_SERVER".into())
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
                        let until = match (r.status.as_str(), r.not_after) {
                            ("approved", Some(t)) => {
                                format!(
                                    "  until {}",
                                    blindvault_client::rfc3339_utc(t).get(..10).unwrap_or("")
                                )
                            }
                            _ => String::new(),
                        };
                        println!(
                            "{}  {:<8}  {:<7}  {}  {}{until}{sig}",
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
        ApproverCommand::Approve { id, yes, valid_for, pass } => {
            let valid_secs = admin::parse_duration(&valid_for)?;
            if valid_secs > MAX_ENROLMENT_SECS {
                return Err(ClientError::Input(format!(
                    "--valid-for {valid_for} is too long: at most 3650d (renew by approving again)"
                )));
            }
            let pending = block_on(broker::pending_enrolment(&api, &id))?;
            // A key the org's revocation record names (the newest of the org directory's and
            // the server's) is never signed again: that device enrols anew, with a new key.
            let dir = args.dir.path();
            let revoked = block_on(broker::revoked_now(&api, &admin::org_public(&dir)?, &dir))?;
            if revoked.approver_revoked(&pending.key) {
                return Err(ClientError::Input(format!(
                    "refused: the org's revocation record names this device's key (fingerprint {}); \
                     it cannot be approved again — the device must enrol with a new passkey",
                    pending.fingerprint
                )));
            }
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
                return Err(ClientError::NotConfirmed(
                    "not confirmed: compare the fingerprint with the device's, then run again with --yes"
                        .into(),
                ));
            }
            let passphrase =
                admin::read_passphrase(pass.passphrase_file.as_deref(), "Org key passphrase: ", false)?;
            let org = admin::org_secret(&dir, &passphrase)?;
            let view = block_on(broker::approve_enrolment(&api, &org, &pending, valid_secs))?;
            println!("{} is now an approver ({})", printable(&view.user_name), printable(&view.status));
            println!(
                "enrolment valid until {} (approve the device again before then to renew it)",
                blindvault_client::rfc3339_utc(blindvault_client::unix_now().saturating_add(valid_secs))
            );
        }
        ApproverCommand::Invite { .. } => {}
        ApproverCommand::Remove { id, yes, value_files, rotate_later, pass } => {
            // The key to revoke comes from the org-signed enrolment, checked under the local
            // org key, never from the server's say-so.
            let dir = args.dir.path();
            let target = block_on(broker::removal_target(&api, &admin::org_public(&dir)?, &id))?;
            let key = target.key;
            println!(
                "approver:    {} (user {})",
                printable(&target.view.user_name),
                printable(&target.user_id)
            );
            println!("fingerprint: {}", target.fingerprint);
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
                    return Err(ClientError::NotConfirmed(
                        "not removed: pass --yes to remove anyway (then rotate or re-write those entries)"
                            .into(),
                    ));
                }
            }
            let passphrase =
                admin::read_passphrase(pass.passphrase_file.as_deref(), "Org key passphrase: ", false)?;
            let org = admin::org_secret(&dir, &passphrase)?;
            // Decided before anything changes: a run that cannot finish refuses up front.
            let plan = rotation::plan(&api, &org, &key, &value_files, rotate_later)?;
            let record = rotation::revoke_device(&api, &org, &dir, key)?;
            with_step_up(&api, "approver.remove", &id, |api| {
                let id = id.clone();
                async move { broker::approver_remove(&api, &id, false).await }
            })
            .inspect_err(|_| {
                eprintln!(
                    "note: the org's revocation record (epoch {}) already names the device: devices and \
                     consumers refuse it; run this command again to remove it on the server and rotate",
                    record.record.epoch
                );
            })?;
            println!("removed {}", printable(&id));
            rotation::rotate(&api, &org, &record, plan)?;
        }
    }
    Ok(())
}

/// `approver remove`'s revocation and rotation walk, kept apart from the command's flow.
mod rotation {
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};

    use blindvault_client::ClientError;
    use blindvault_client::api::BrokerClient;
    use blindvault_client::broker::{self, SecretRow};
    use blindvault_core::keys::{ApproverPublicKey, OrgSecretKey};
    use blindvault_core::revocation::SignedRevocations;

    use super::super::brokercommon::{block_on, printable};

    /// Where an entry's new value comes from.
    pub enum Source {
        File(PathBuf),
        Ask,
        Later,
    }

    /// The entries the device could open and what to do with each.
    pub struct Plan(Vec<(SecretRow, Source)>);

    fn parse_value_files(value_files: &[String]) -> Result<BTreeMap<String, PathBuf>, ClientError> {
        let mut out = BTreeMap::new();
        for v in value_files {
            let (id, file) = v
                .split_once('=')
                .ok_or_else(|| ClientError::Input(format!("--value-file {v:?}: write ENTRY_ID=FILE")))?;
            let id = broker::parse_entry_id(id)?.to_text();
            if out.insert(id.clone(), PathBuf::from(file)).is_some() {
                return Err(ClientError::Input(format!("--value-file names {id} twice")));
            }
        }
        Ok(out)
    }

    /// Lists the entries whose current version the device can open (it holds an envelope of
    /// it) and decides, before anything changes, where each new value comes from.
    pub fn plan(
        api: &BrokerClient,
        org: &OrgSecretKey,
        key: &ApproverPublicKey,
        value_files: &[String],
        rotate_later: bool,
    ) -> Result<Plan, ClientError> {
        let mut files = parse_value_files(value_files)?;
        let rows = block_on(broker::entries_opened_by(api, org, key))?;
        let tty = std::io::IsTerminal::is_terminal(&std::io::stdin());
        let mut plan = Vec::with_capacity(rows.len());
        let mut missing = Vec::new();
        for r in rows {
            let source = match files.remove(&r.entry_id) {
                Some(f) => Source::File(f),
                None if rotate_later => Source::Later,
                None if tty => Source::Ask,
                None => {
                    missing.push(format!("  {}  v{}  {}", r.entry_id, r.version, printable(&r.label)));
                    Source::Later
                }
            };
            plan.push((r, source));
        }
        if let Some(id) = files.keys().next() {
            return Err(ClientError::Input(format!(
                "not removed: --value-file names {id}, which this device cannot open (nothing to rotate there)"
            )));
        }
        if !missing.is_empty() {
            return Err(ClientError::Input(format!(
                "not removed: this device can open {} {}:\n{}\ngive each a new value with --value-file ENTRY_ID=FILE \
                 (rotated to a version without the device), or pass --rotate-later and run \
                 `blindvault secret rotate` for each",
                missing.len(),
                if missing.len() == 1 { "entry" } else { "entries" },
                missing.join("\n")
            )));
        }
        Ok(Plan(plan))
    }

    /// Signs and uploads the revocation record naming the device (the org's word, checked by
    /// devices and consumers), and says so.
    pub fn revoke_device(
        api: &BrokerClient,
        org: &OrgSecretKey,
        dir: &Path,
        key: ApproverPublicKey,
    ) -> Result<SignedRevocations, ClientError> {
        let record = block_on(broker::publish_revocation(api, org, dir, &[key], &[]))?;
        println!(
            "revocation record {} signed and uploaded: approver device {} is refused by devices and consumers",
            record.record.epoch,
            key.fingerprint()
        );
        Ok(record)
    }

    /// Walks through the plan: each entry rotated to a new version sealed to the approvers that
    /// remain (never to a revoked device), or left with a warning.
    pub fn rotate(
        api: &BrokerClient,
        org: &OrgSecretKey,
        record: &SignedRevocations,
        plan: Plan,
    ) -> Result<(), ClientError> {
        if plan.0.is_empty() {
            println!("the device held no envelope of any current entry version: nothing to rotate");
            return Ok(());
        }
        println!(
            "the device could open {} {}; each gets a new version without it:",
            plan.0.len(),
            if plan.0.len() == 1 { "entry" } else { "entries" }
        );
        let mut later = Vec::new();
        let mut failed = Vec::new();
        for (row, source) in plan.0 {
            let name =
                format!("{}  v{}  {}  {}", row.entry_id, row.version, row.policy, printable(&row.label));
            println!("  {name}");
            let value = match source {
                Source::Later => {
                    later.push(row.entry_id);
                    continue;
                }
                Source::File(f) => broker::read_secret_value(Some(f.as_path())),
                Source::Ask => {
                    if !super::super::brokercommon::confirm("    Rotate it now (you type the new value)?") {
                        later.push(row.entry_id);
                        continue;
                    }
                    broker::read_secret_value(None)
                }
            };
            let done = value.and_then(|v| {
                let id = broker::parse_entry_id(&row.entry_id)?;
                block_on(broker::secret_rotate(api, org, id, None, &v, false, &record.record))
            });
            match done {
                Ok(view) => {
                    println!("    rotated: now version {}, sealed to the remaining approvers", view.version)
                }
                Err(e) => {
                    eprintln!("    not rotated: {}", printable(&e.to_string()));
                    failed.push(row.entry_id);
                }
            }
        }
        for id in &later {
            eprintln!(
                "warning: {id} still opens with the removed device's envelope of its current version; \
                 rotate it: blindvault secret rotate {id}"
            );
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(ClientError::Incomplete(format!(
                "the device was removed, but {} could not be rotated: run `blindvault secret rotate` for {}",
                if failed.len() == 1 { "one entry" } else { "some entries" },
                failed.join(", ")
            )))
        }
    }
}
