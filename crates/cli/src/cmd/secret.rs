//! `blindvault secret`: write, rotate, list and delete sealed entries. Values come from stdin or
//! a file, never from the command line.

use std::path::PathBuf;
use std::process::ExitCode;

use blindvault_client::broker::{self, PolicyChoice};
use blindvault_client::{ClientError, admin};

use super::brokercommon::{
    AdminArgs, Format, OrgDirArg, PassArg, block_on, finish, print_json, with_step_up,
};

/// Arguments of `blindvault secret`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub admin: AdminArgs,
    #[command(flatten)]
    pub dir: OrgDirArg,
    #[command(subcommand)]
    pub command: SecretCommand,
}

/// The policy of a new entry.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyArg {
    /// Any one approver releases it.
    AnyOf,
}

/// Secret subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum SecretCommand {
    /// Seal a new secret (value from stdin or --from-file) to every approver and sign it with the
    /// org key; prints its id.
    Put {
        /// Any one approver releases it.
        #[arg(long, value_enum, required_unless_present = "m_of_n", conflicts_with = "m_of_n")]
        policy: Option<PolicyArg>,
        /// M distinct approvers must approve (Shamir-split key).
        #[arg(long, value_name = "M")]
        m_of_n: Option<u8>,
        /// A label approvers see (encrypted; the server never sees it).
        #[arg(long, default_value = "")]
        label: String,
        /// Read the value from this file (exact bytes) instead of stdin.
        #[arg(long)]
        from_file: Option<PathBuf>,
        /// No longer here: a host's certificate says whether its issuer may approve alone
        /// (`blindvault host issue --allow-self-approval`).
        #[arg(long, hide = true)]
        allow_self_approval: bool,
        #[command(flatten)]
        pass: PassArg,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Write a new version (new value; same policy; today's approvers).
    Rotate {
        /// The entry id (it may start with '-').
        #[arg(allow_hyphen_values = true)]
        entry_id: String,
        /// A new label (default: keep the current one).
        #[arg(long)]
        label: Option<String>,
        /// Read the value from this file instead of stdin.
        #[arg(long)]
        from_file: Option<PathBuf>,
        /// No longer here: a host's certificate says whether its issuer may approve alone
        /// (`blindvault host issue --allow-self-approval`).
        #[arg(long, hide = true)]
        allow_self_approval: bool,
        #[command(flatten)]
        pass: PassArg,
    },
    /// Entries, with labels decrypted by the org key.
    List {
        #[command(flatten)]
        pass: PassArg,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Delete an entry (every version); open requests for it end.
    Rm {
        /// The entry id (it may start with '-').
        #[arg(allow_hyphen_values = true)]
        entry_id: String,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    finish(body(args))
}

/// `--allow-self-approval` moved to the host certificate, where the org key signs it and every
/// consumer checks it: say where, before anything is read or written.
fn self_approval_moved() -> ClientError {
    ClientError::Input(
        "--allow-self-approval is no longer an option of the secret: it is part of the host's \
         certificate now. Issue the host with `blindvault host issue --allow-self-approval ...` \
         (and store the secret without it)"
            .into(),
    )
}

fn body(args: Args) -> Result<(), ClientError> {
    let api = args.admin.client()?;
    let dir = args.dir.path();
    match args.command {
        SecretCommand::Put { policy, m_of_n, label, from_file, allow_self_approval, pass, format } => {
            if allow_self_approval {
                return Err(self_approval_moved());
            }
            let choice = match (policy, m_of_n) {
                (_, Some(m)) => PolicyChoice::MOfN(m),
                (Some(PolicyArg::AnyOf), None) => PolicyChoice::AnyOf,
                (None, None) => return Err(ClientError::Input("give --policy any-of or --m-of-n M".into())),
            };
            let value = broker::read_secret_value(from_file.as_deref())?;
            // The org key signs the entry: approvers and consumers accept no entry without it.
            let passphrase =
                admin::read_passphrase(pass.passphrase_file.as_deref(), "Org key passphrase: ", false)?;
            let org = admin::org_secret(&dir, &passphrase)?;
            let revoked = block_on(broker::revoked_now(&api, &org.public_key(), &dir))?;
            let view =
                block_on(broker::secret_put(&api, &org, choice, label.as_bytes(), &value, false, &revoked))?;
            drop(value);
            match format {
                Format::Json => print_json(&serde_json::json!({
                    "entry_id": view.entry_id, "version": view.version,
                    "threshold": view.threshold, "people": view.people,
                }))?,
                Format::Text => println!("{}", view.entry_id),
            }
        }
        SecretCommand::Rotate { entry_id, label, from_file, allow_self_approval, pass } => {
            if allow_self_approval {
                return Err(self_approval_moved());
            }
            let id = broker::parse_entry_id(&entry_id)?;
            let value = broker::read_secret_value(from_file.as_deref())?;
            let passphrase =
                admin::read_passphrase(pass.passphrase_file.as_deref(), "Org key passphrase: ", false)?;
            let org = admin::org_secret(&dir, &passphrase)?;
            let revoked = block_on(broker::revoked_now(&api, &org.public_key(), &dir))?;
            let view = block_on(broker::secret_rotate(
                &api,
                &org,
                id,
                label.as_deref().map(str::as_bytes),
                &value,
                false,
                &revoked,
            ))?;
            println!("{} is now at version {}", view.entry_id, view.version);
        }
        SecretCommand::List { pass, format } => {
            let passphrase =
                admin::read_passphrase(pass.passphrase_file.as_deref(), "Org key passphrase: ", false)?;
            let org = admin::org_secret(&dir, &passphrase)?;
            let rows = block_on(broker::secret_list(&api, &org))?;
            match format {
                Format::Json => print_json(&rows)?,
                Format::Text => {
                    if rows.is_empty() {
                        println!("no secrets");
                    }
                    for r in rows {
                        println!("{}  v{:<3}  {:<8}  {}", r.entry_id, r.version, r.policy, r.label);
                    }
                }
            }
        }
        SecretCommand::Rm { entry_id } => {
            let id = broker::parse_entry_id(&entry_id)?;
            let target = id.to_text();
            with_step_up(&api, "entry.delete", &target, |api| {
                let target = target.clone();
                async move { Ok(api.delete_entry(&target).await?) }
            })?;
            println!("deleted {}", id.to_text());
        }
    }
    Ok(())
}
