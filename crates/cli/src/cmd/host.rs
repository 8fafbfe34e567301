//! `blindvault host`: consumer hosts (key file + org-signed certificate).

use std::path::PathBuf;
use std::process::ExitCode;

use blindvault_client::{ClientError, admin, broker};

use super::brokercommon::{
    AdminArgs, Format, OrgDirArg, PassArg, block_on, finish, print_json, printable, with_step_up,
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
        /// Let you (the issuer, named in the certificate) be the only approver of this host's
        /// requests — for a person trying blindvault alone. By default another person must
        /// approve (separation of duties), which every consumer checks too.
        #[arg(long)]
        allow_self_approval: bool,
        #[command(flatten)]
        dir: OrgDirArg,
        #[command(flatten)]
        pass: PassArg,
    },
    /// Revoke a host certificate: the org key signs a new revocation record naming it
    /// (approver devices refuse its requests from then on, whatever the server says), then the
    /// server revokes it and its open requests end — after a fresh confirmation with your passkey
    /// in the web app (a link is printed).
    Revoke {
        /// The certificate id (from `host list`; it may start with '-').
        #[arg(allow_hyphen_values = true)]
        cert_id: String,
        #[command(flatten)]
        dir: OrgDirArg,
        #[command(flatten)]
        pass: PassArg,
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
        HostCommand::Issue { name, entries, expires, out, allow_self_approval, dir, pass } => {
            let valid = admin::parse_duration(&expires)?;
            admin::check_host_validity(valid)?;
            let ids = entries.iter().map(|e| broker::parse_entry_id(e)).collect::<Result<Vec<_>, _>>()?;
            let passphrase =
                admin::read_passphrase(pass.passphrase_file.as_deref(), "Org key passphrase: ", false)?;
            let org = admin::org_secret(&dir.path(), &passphrase)?;
            let (file, view) = block_on(broker::host_issue(
                &api,
                &org,
                &dir.path(),
                &admin::HostSpec { name: &name, entries: &ids, valid_secs: valid },
                allow_self_approval,
                &out,
            ))?;
            println!("host {} issued: certificate {}", view.host_name, view.cert_id);
            if let Some(issuer) = &file.certificate.cert.issuer {
                println!("issuer: user {} (you; the org key holder pinned by `org push`)", printable(issuer));
            }
            if allow_self_approval {
                println!("you, its issuer, may be the only approver of its requests (--allow-self-approval)");
            }
            println!("key file: {} (copy it to the host; keep it 0600)", out.display());
            let until = file.certificate.cert.not_after;
            println!("valid until {} (Unix time {until})", blindvault_client::rfc3339_utc(until));
        }
        HostCommand::Revoke { cert_id, dir, pass } => {
            // The org signs the certificate id the admin typed: a server that hides the host
            // (answers that it does not know it) cannot stop the org's revocation.
            let id = blindvault_core::ids::CertId::parse(cert_id.trim()).map_err(|_| {
                ClientError::Input(format!(
                    "{cert_id:?} is not a certificate id (see `blindvault host list`, or the `host issue` output)"
                ))
            })?;
            let cert_id = id.to_text();
            let passphrase =
                admin::read_passphrase(pass.passphrase_file.as_deref(), "Org key passphrase: ", false)?;
            let org = admin::org_secret(&dir.path(), &passphrase)?;
            revoke_in_record(&api, &org, &dir.path(), id)?;
            let known =
                block_on(async { Ok(api.hosts().await?) })?.into_iter().find(|h| h.cert_id == cert_id);
            match known {
                None => eprintln!(
                    "warning: the server does not know host {cert_id}: nothing to revoke there (approver \
                     devices refuse it by the org's record); check the id if you expected it listed"
                ),
                Some(host) if host.revoked => println!("{cert_id} was already revoked on the server"),
                Some(_) => {
                    let target = cert_id.clone();
                    let ended = with_step_up(&api, "host.revoke", &cert_id, |api| {
                        let target = target.clone();
                        async move { Ok(api.revoke_host(&target).await?) }
                    })?;
                    println!("revoked {cert_id}; {ended} open request(s) ended");
                }
            }
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
                            "{}  {:<20}  until {}{}{}",
                            h.cert_id,
                            h.host_name,
                            blindvault_client::rfc3339_utc(u64::try_from(h.not_after).unwrap_or(0)),
                            if h.self_approval { "  issuer may approve alone" } else { "" },
                            if h.revoked { "  REVOKED" } else { "" }
                        );
                    }
                }
            }
        }
    }
    Ok(())
}

/// Signs and uploads the revocation record naming the host certificate (the org's word, which
/// approver devices check), before the server-side revocation.
fn revoke_in_record(
    api: &blindvault_client::api::BrokerClient,
    org: &blindvault_core::keys::OrgSecretKey,
    dir: &std::path::Path,
    id: blindvault_core::ids::CertId,
) -> Result<(), ClientError> {
    let record = block_on(broker::publish_revocation(api, org, dir, &[], &[id]))?;
    println!(
        "revocation record {} signed and uploaded: approver devices refuse host certificate {}",
        record.record.epoch,
        id.to_text()
    );
    Ok(())
}
