//! `blindvault web verify`: does the server serve exactly the web app this binary was built with?
//!
//! The web app's JavaScript and WebAssembly come from the server, so a compromised server could
//! serve a page that leaks what the passkey unlocks. This command fetches every asset and its
//! security policy and compares them with the copy compiled into this binary (the same table
//! `blindvault serve` serves). It catches a server that serves modified code to everyone; a
//! server that targets one person's browser can only be caught from that browser (see
//! docs/threat-model.md).

use std::process::ExitCode;

use blindvault_client::ClientError;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::brokercommon::{Format, ServerArg, block_on, finish, print_json};

/// Arguments of `blindvault web`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub server: ServerArg,
    #[command(subcommand)]
    pub command: WebCommand,
}

/// `web` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum WebCommand {
    /// Compare every file of the served web app, and its Content-Security-Policy, with the copy
    /// built into this binary. Exit 0 when all match, 6 when anything differs.
    Verify {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

#[derive(Serialize, Debug)]
struct Check {
    path: String,
    ok: bool,
    expected_sha256: String,
    served_sha256: Option<String>,
    status: u16,
}

use blindvault_core::encoding::hex::encode as hex;

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let WebCommand::Verify { format } = args.command;
    let mut all_ok = true;
    let result = (|| -> Result<(), ClientError> {
        let api = args.server.client()?;
        let (checks, csp_ok) = block_on(async {
            let mut checks = Vec::new();
            let mut csp_ok = true;
            // `/` is what people load (invite links point there): it must be `index.html`.
            let index = blindvault_server::web::asset("/").map(|(b, _)| b).unwrap_or_default();
            let root = std::iter::once(("/", index));
            let files = blindvault_server::web::ASSETS.iter().map(|(p, b, _)| (*p, *b));
            for (path, bytes) in root.chain(files) {
                let (status, csp, body) = api.get_asset(path).await?;
                let ok = status == 200 && body.as_slice() == bytes;
                if path == "/" || path == "/index.html" {
                    csp_ok &= csp.as_deref() == Some(blindvault_server::web::CSP);
                }
                checks.push(Check {
                    path: path.to_owned(),
                    ok,
                    expected_sha256: hex(Sha256::digest(bytes)),
                    served_sha256: (status == 200).then(|| hex(Sha256::digest(&body))),
                    status,
                });
            }
            Ok::<_, ClientError>((checks, csp_ok))
        })?;
        all_ok = csp_ok && checks.iter().all(|c| c.ok);
        match format {
            Format::Json => {
                print_json(&serde_json::json!({ "ok": all_ok, "csp_ok": csp_ok, "files": checks }))?
            }
            Format::Text => {
                for c in &checks {
                    let state = if c.ok {
                        "ok".to_owned()
                    } else if c.status != 200 {
                        format!("MISSING (HTTP {})", c.status)
                    } else {
                        "DIFFERENT".to_owned()
                    };
                    println!("{state:<20} {}", c.path);
                }
                println!("{:<20} Content-Security-Policy", if csp_ok { "ok" } else { "DIFFERENT" });
                if all_ok {
                    println!("the server serves exactly the web app built into this binary");
                } else {
                    eprintln!(
                        "the server does NOT serve the web app of this release: do not approve from it until you know why"
                    );
                }
            }
        }
        Ok(())
    })();
    let code = finish(result)?;
    if code == ExitCode::SUCCESS && !all_ok {
        return Ok(ExitCode::from(6));
    }
    Ok(code)
}
