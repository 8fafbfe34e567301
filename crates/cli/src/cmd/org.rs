//! `blindvault org`: the org identity key on the admin's machine.

use std::process::ExitCode;

use blindvault_client::{ClientError, admin, broker};

use super::brokercommon::{
    AdminArgs, Format, OrgDirArg, PassArg, block_on, finish, print_json, printable, with_step_up,
};

/// Environment variable that lowers age's scrypt work factor (log2 N) for `org init`. For tests
/// only: a low value makes the org key file easy to brute-force.
pub const TEST_SCRYPT_ENV: &str = "BLINDVAULT_TEST_SCRYPT_LOG_N";

/// Arguments of `blindvault org`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: OrgCommand,
}

/// Org subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum OrgCommand {
    /// Create the org identity key (org.key, passphrase-encrypted; org.pub beside it).
    Init {
        #[command(flatten)]
        dir: OrgDirArg,
        #[command(flatten)]
        pass: PassArg,
    },
    /// Print the org public key and its fingerprint.
    Show {
        #[command(flatten)]
        dir: OrgDirArg,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Set the org public key on the server (PUT /api/broker/org).
    Push {
        #[command(flatten)]
        admin: AdminArgs,
        #[command(flatten)]
        dir: OrgDirArg,
        /// Replace the org key the server holds with this one: every approver device must be
        /// enrolled again. Asks for a fresh confirmation with your passkey in the web app (a
        /// link is printed).
        #[arg(long)]
        replace: bool,
    },
    /// Show the org's settings on the server, or change them.
    Settings {
        #[command(flatten)]
        admin: AdminArgs,
        /// Refuse approver devices on synced (backup-eligible) passkeys: only security keys and
        /// device-bound passkeys may enrol (`true` or `false`).
        #[arg(long, value_name = "BOOL")]
        refuse_synced_approvers: Option<bool>,
    },
}

#[derive(serde::Serialize)]
struct Shown {
    org_public_key: String,
    fingerprint: String,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    finish(match args.command {
        OrgCommand::Init { dir, pass } => init(&dir, &pass),
        OrgCommand::Show { dir, format } => show(&dir, format),
        OrgCommand::Push { admin, dir, replace } => push(&admin, &dir, replace),
        OrgCommand::Settings { admin, refuse_synced_approvers } => settings(&admin, refuse_synced_approvers),
    })
}

fn work_factor() -> Result<Option<u8>, ClientError> {
    match std::env::var(TEST_SCRYPT_ENV) {
        Ok(v) => v
            .trim()
            .parse::<u8>()
            .ok()
            .filter(|n| (1..=30).contains(n))
            .map(Some)
            .ok_or_else(|| ClientError::Input(format!("{TEST_SCRYPT_ENV} must be a number from 1 to 30"))),
        Err(_) => Ok(None),
    }
}

fn init(dir: &OrgDirArg, pass: &PassArg) -> Result<(), ClientError> {
    let path = dir.path();
    let wf = work_factor()?;
    let passphrase =
        admin::read_passphrase(pass.passphrase_file.as_deref(), "New org key passphrase: ", true)?;
    let public = admin::org_init(&path, &passphrase, wf)?;
    println!("org key created in {}", path.display());
    println!("fingerprint: {}", public.fingerprint());
    println!(
        "next: a command-line session from the web app (Admin → Command line), then `blindvault org push`"
    );
    Ok(())
}

fn show(dir: &OrgDirArg, format: Format) -> Result<(), ClientError> {
    let public = admin::org_public(&dir.path())?;
    let shown = Shown {
        org_public_key: blindvault_core::encoding::b64::encode(&public.to_bytes()),
        fingerprint: public.fingerprint().to_string(),
    };
    match format {
        Format::Json => print_json(&shown)?,
        Format::Text => {
            println!("public key:  {}", shown.org_public_key);
            println!("fingerprint: {}", shown.fingerprint);
        }
    }
    Ok(())
}

fn push(admin_args: &AdminArgs, dir: &OrgDirArg, replace: bool) -> Result<(), ClientError> {
    let public = admin::org_public(&dir.path())?;
    let api = admin_args.client()?;
    let fp =
        if replace {
            let target = public.fingerprint().to_string();
            with_step_up(&api, "org.replace", &target, |api| async move {
                broker::org_replace(&api, &public).await
            })?
        } else {
            block_on(broker::org_push(&api, &public))?
        };
    println!("org key set on {} (fingerprint {fp})", api.base());
    let me = block_on(broker::pin_holder(&api, &dir.path()))?;
    println!("key holder: {} ({}), pinned in the org directory", printable(&me.name), me.id);
    Ok(())
}

fn settings(admin_args: &AdminArgs, refuse_synced: Option<bool>) -> Result<(), ClientError> {
    let api = admin_args.client()?;
    let now = block_on(broker::org_settings(&api, refuse_synced))?;
    println!(
        "refuse-synced-approvers: {}",
        if now.refuse_synced_approvers {
            "true (only security keys and device-bound passkeys may enrol as approver devices)"
        } else {
            "false (synced passkeys may enrol; `blindvault approver list` shows which are)"
        }
    );
    Ok(())
}
