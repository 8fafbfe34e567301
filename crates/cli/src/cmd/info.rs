use std::process::ExitCode;

/// Arguments of `blindvault info`.
#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    let salt: String = blindvault_core::schedule::PRF_SALT_V1.iter().map(|b| format!("{b:02x}")).collect();
    println!("protocol: blindvault/v1");
    println!("prf salt: {salt}");
    Ok(ExitCode::SUCCESS)
}
