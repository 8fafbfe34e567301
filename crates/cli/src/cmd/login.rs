//! `blindvault login` and `logout`: keep a command-line token (made in the web app, Account →
//! Command-line tokens) in the OS keyring — service `blindvault`, user the server URL — after
//! checking it with the server (`cmd::keyring_store` is where; admin commands look there when no
//! token file is given). The keyring is the kernel's key store (keyutils) on Linux, the Keychain
//! on macOS.

use std::process::ExitCode;

use blindvault_client::ClientError;
use blindvault_client::api;

use crate::cmd::brokercommon::{ServerArg, block_on, finish, printable};
use crate::cmd::keyring_store::{SERVICE, entry, from_keyring};

#[derive(clap::Args, Debug)]
pub struct LoginArgs {
    #[command(flatten)]
    pub server: ServerArg,
}

#[derive(clap::Args, Debug)]
pub struct LogoutArgs {
    #[command(flatten)]
    pub server: ServerArg,
}

fn unavailable(e: &keyring::Error) -> ClientError {
    // The kernel's key store answers "no such key" (or "access denied", which the crate reads as
    // the same) where a process has no keyring it may use, as in many containers.
    let why = match e {
        keyring::Error::NoEntry => "it refused to keep the token".to_owned(),
        other => other.to_string(),
    };
    ClientError::Local(format!(
        "the OS keyring is not available here ({why}). Keep the token in a file instead: save it in a file only \
         you can read (chmod 600 FILE) and set BLINDVAULT_TOKEN_FILE=FILE (or pass --token-file FILE)"
    ))
}

pub fn login(args: LoginArgs) -> anyhow::Result<ExitCode> {
    finish((|| {
        let api = args.server.client()?;
        let token = api::read_token_input()?;
        let who = block_on(async { Ok(api.clone().with_token(token.clone()).token_whoami().await?) })?;
        entry(&api).and_then(|e| e.set_password(&token)).map_err(|e| unavailable(&e))?;
        // Read back: some keyrings accept a write they cannot keep.
        if from_keyring(&api).as_deref().map(String::as_str) != Some(token.as_str()) {
            return Err(ClientError::Local(
                "the OS keyring did not keep the token. Keep it in a file instead: save it in a file only you can \
                 read (chmod 600 FILE) and set BLINDVAULT_TOKEN_FILE=FILE (or pass --token-file FILE)"
                    .into(),
            ));
        }
        let t = &who.token;
        println!(
            "Signed in to {} as {} (role {}) with the token {:?}, scope {}, which expires {}.",
            printable(api.base()),
            printable(&t.user_name),
            printable(&who.role),
            printable(&t.name),
            t.scope.as_str(),
            blindvault_client::rfc3339_utc(u64::try_from(t.expires_at).unwrap_or(0)),
        );
        println!("The token is in the OS keyring (service {SERVICE}, user {}).", printable(api.base()));
        println!(
            "Next: `blindvault secret list --server {}`; `blindvault logout` forgets it.",
            printable(api.base())
        );
        Ok(())
    })())
}

pub fn logout(args: LogoutArgs) -> anyhow::Result<ExitCode> {
    finish((|| {
        let api = args.server.client()?;
        match entry(&api).and_then(|e| e.delete_credential()) {
            Ok(()) => {
                println!(
                    "Forgot the token for {}. It still works until it is revoked: revoke it in the web app \
                     (Account → Command-line tokens).",
                    printable(api.base())
                );
                Ok(())
            }
            Err(keyring::Error::NoEntry) => {
                println!("No token kept for {}.", printable(api.base()));
                Ok(())
            }
            Err(e) => Err(unavailable(&e)),
        }
    })())
}
