//! `blindvault inject`: fill a template with secrets after approval; the output file is 0600.

use std::path::PathBuf;
use std::process::ExitCode;

use blindvault_client::{ClientError, admin, broker};
use blindvault_core::identity::Purpose;
use sha2::{Digest, Sha256};

use super::brokercommon::{ConsumerArgs, fail, fetch};

/// Arguments of `blindvault inject`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub consumer: ConsumerArgs,
    /// The template: text with `{{ blindvault "ENTRY_ID" }}` where each secret goes.
    #[arg(long)]
    pub template: PathBuf,
    /// Where to write the result (mode 0600; replaced if it exists).
    #[arg(long)]
    pub out: PathBuf,
    /// How long approvers have to decide.
    #[arg(long, default_value = "15m")]
    pub wait: String,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match body(&args) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => Ok(fail(&e)),
    }
}

fn body(args: &Args) -> Result<(), ClientError> {
    // The secret passes through this process: no core dump of it, no reading of its memory.
    blindvault_client::harden::no_core_dumps()?;
    let template = std::fs::read_to_string(&args.template)
        .map_err(|e| ClientError::Input(format!("{}: {e}", args.template.display())))?;
    let wanted = broker::template_wants(&template)?;
    let window = admin::parse_duration(&args.wait)?;
    // The approver sees which template (its hash) is filled and where it is written.
    let purpose = Purpose::Inject {
        template_sha256: Sha256::digest(template.as_bytes()).into(),
        out: args
            .out
            .to_str()
            .ok_or_else(|| {
                ClientError::Input(
                    "--out is not UTF-8: the approver is shown the path exactly; choose another".into(),
                )
            })?
            .to_owned(),
    };
    let secrets = fetch(&args.consumer, &wanted, &purpose, window)?;
    // What the fetch left in the stack frames it used is overwritten (as in `run`).
    blindvault_client::harden::scrub_stack();
    broker::inject_to_file(&template, secrets, &args.out)?;
    eprintln!("wrote {}", args.out.display());
    Ok(())
}
