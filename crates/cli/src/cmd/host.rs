//! `blindvault host`: consumer hosts (key file + org-signed certificate).

use std::path::PathBuf;
use std::process::ExitCode;

use blindvault_client::{ClientError, admin, broker};

use super::brokercommon::{
    AdminArgs, Format, OrgDirArg, PassArg, block_on, finish, print_json, with_step_up,
};

/// Arguments of `blindvault host`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub admin: AdminArgs,
    #[command(subcommand)]
    pub command: HostCommand,
}

/// Host subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum HostCommand {
    /// Make a host key file (mode 0600) with a certificate for the given entries, and register
    /// the certificate on the server.
    Issue {
        /// The host's name (shown to approvers).
        #[arg(long)]
        name: String,
        /// An entry the host may ask for (repeat for several).
        #[arg(long = "entry", required = true, allow_hyphen_values = true)]
        entries: Vec<String>,
        /// How long the certificate is valid (at least 5m; 15m, 12h, 30d).
        #[arg(long, default_value = "30d")]
        expires: String,
        /// Where to write the host key file (never overwritten).
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        dir: OrgDirArg,
        #[command(flatten)]
        pass: PassArg,
    },
    /// Revoke a host certificate; its open requests end. Asks for a fresh confirmation with
    /// your passkey in the web app (a link is printed) and waits for it.
    Revoke {
        /// The certificate id (from `host list`; it may start with '-').
        #[arg(allow_hyphen_values = true)]
        cert_id: String,
    },
    /// Registered hosts.
    List {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    finish(body(args))
}

fn body(args: Args) -> Result<(), ClientError> {
    let api = args.admin.client()?;
    match args.command {
        HostCommand::Issue { name, entries, expires, out, dir, pass } => {
            let valid = admin::parse_duration(&expires)?;
            admin::check_host_validity(valid)?;
            let ids = entries.iter().map(|e| broker::parse_entry_id(e)).collect::<Result<Vec<_>, _>>()?;
            let passphrase =
                admin::read_passphrase(pass.passphrase_file.as_deref(), "Org key passphrase: ", false)?;
            let org = admin::org_secret(&dir.path(), &passphrase)?;
            let (file, view) = block_on(broker::host_issue(&api, &org, &name, &ids, valid, &out))?;
            println!("host {} issued: certificate {}", view.host_name, view.cert_id);
            println!("key file: {} (copy it to the host; keep it 0600)", out.display());
            let until = file.certificate.cert.not_after;
            println!("valid until {} (Unix time {until})", blindvault_client::rfc3339_utc(until));
        }
        HostCommand::Revoke { cert_id } => {
            let target = cert_id.clone();
            let ended = with_step_up(&api, "host.revoke", &cert_id, |api| {
                let target = target.clone();
                async move { Ok(api.revoke_host(&target).await?) }
            })?;
            println!("revoked {cert_id}; {ended} open request(s) ended");
        }
        HostCommand::List { format } => {
            let hosts = block_on(async { Ok(api.hosts().await?) })?;
            match format {
                Format::Json => print_json(&hosts)?,
                Format::Text => {
                    if hosts.is_empty() {
                        println!("no hosts");
                    }
                    for h in hosts {
                        println!(
                            "{}  {:<20}  until {}{}",
                            h.cert_id,
                            h.host_name,
                            blindvault_client::rfc3339_utc(u64::try_from(h.not_after).unwrap_or(0)),
                            if h.revoked { "  REVOKED" } else { "" }
                        );
                    }
                }
            }
        }
    }
    Ok(())
}
