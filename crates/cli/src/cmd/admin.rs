//! `blindvault admin wallet …`: the wallet's server side, for admins — the RPC endpoint of each
//! chain and network (the credential read from a file or stdin, never from the command line; the
//! server keeps it and no answer carries it back), the default token list, and who holds which
//! published address.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use blindvault_client::ClientError;
use blindvault_client::api::BrokerClient;
use blindvault_client::wallet::{Chain, CredentialValue, EndpointCredential, EndpointSet, TokenSet};
use zeroize::Zeroizing;

use super::brokercommon::{AdminArgs, Format, block_on, finish, print_json, printable};

/// Arguments of `blindvault admin`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub admin: AdminArgs,
    #[command(subcommand)]
    pub command: AdminCommand,
}

/// Admin areas.
#[derive(clap::Subcommand, Debug)]
pub enum AdminCommand {
    /// The wallet's server side: RPC endpoints, default tokens, published addresses.
    Wallet {
        #[command(subcommand)]
        command: WalletCommand,
    },
}

/// `admin wallet` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum WalletCommand {
    /// The RPC endpoint of each chain and network (the gateway's upstream).
    Endpoint {
        #[command(subcommand)]
        command: EndpointCommand,
    },
    /// The token list the wallet's pages show by default.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Who published which address (all, or the holders of one).
    Addresses {
        /// Only this address.
        #[arg(long)]
        address: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

/// Where an endpoint's credential goes on the outbound request.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialKind {
    /// A header (`--credential-name x-api-key`).
    Header,
    /// A query parameter (`--credential-name api_key`).
    Query,
    /// A path segment after the URL's path (Infura's and Alchemy's `…/v3/<key>`).
    Path,
}

/// `admin wallet endpoint` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum EndpointCommand {
    /// Set the endpoint of a chain and network (replaces the one there).
    Set {
        #[arg(long, value_parser = ["evm", "bitcoin", "solana", "tron", "ton"])]
        chain: String,
        /// Short name: mainnet, sepolia, testnet, … (a-z, 0-9, -).
        #[arg(long)]
        network: String,
        /// EVM only, and required there.
        #[arg(long)]
        chain_id: Option<u64>,
        /// https://… (no key in it: give the key with --credential-file).
        #[arg(long)]
        url: String,
        /// Where the credential goes (default header).
        #[arg(long, value_enum, requires = "credential_file")]
        credential_kind: Option<CredentialKind>,
        /// The header's or query parameter's name.
        #[arg(long, requires = "credential_file")]
        credential_name: Option<String>,
        /// Read the credential's value from this file (first line), or from stdin with `-`.
        /// Without it the stored credential is kept.
        #[arg(long, conflicts_with = "clear_credential")]
        credential_file: Option<PathBuf>,
        /// Remove the stored credential.
        #[arg(long)]
        clear_credential: bool,
        /// Keep the endpoint but stop the gateway using it.
        #[arg(long)]
        disabled: bool,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// The endpoints (whether a credential is set, never the credential).
    List {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Remove the endpoint of a chain and network.
    Remove {
        #[arg(long, value_parser = ["evm", "bitcoin", "solana", "tron", "ton"])]
        chain: String,
        #[arg(long)]
        network: String,
    },
}

/// `admin wallet token` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum TokenCommand {
    /// Add a token (or update the symbol and decimals of the one with this contract).
    Add {
        #[arg(long, value_parser = ["evm", "solana", "tron"])]
        chain: String,
        #[arg(long)]
        network: String,
        /// The ERC-20 or TRC-20 contract, or the SPL mint.
        #[arg(long)]
        contract: String,
        #[arg(long)]
        symbol: String,
        #[arg(long)]
        decimals: u8,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// The default tokens.
    List {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Remove a token (its id from `token list`).
    Remove {
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    finish(body(args))
}

fn chain(s: &str) -> Result<Chain, ClientError> {
    Chain::parse(s)
        .ok_or_else(|| ClientError::Input(format!("--chain {s}: evm, bitcoin, solana, tron or ton")))
}

/// The credential's value: the first line of `path`, or of stdin for `-`.
fn read_credential(path: &std::path::Path) -> Result<Zeroizing<String>, ClientError> {
    let mut text = Zeroizing::new(String::new());
    if path.as_os_str() == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| ClientError::Input(format!("cannot read the credential from stdin: {e}")))?;
    } else {
        let mut f = std::fs::File::open(path)
            .map_err(|e| ClientError::Input(format!("cannot read {}: {e}", path.display())))?;
        f.read_to_string(&mut text)
            .map_err(|e| ClientError::Input(format!("cannot read {}: {e}", path.display())))?;
    }
    let line = Zeroizing::new(text.lines().next().unwrap_or("").trim().to_owned());
    if line.is_empty() {
        return Err(ClientError::Input(format!("{}: no credential in it (one line)", path.display())));
    }
    Ok(line)
}

fn credential(
    kind: Option<CredentialKind>,
    name: Option<String>,
    file: Option<&std::path::Path>,
) -> Result<Option<EndpointCredential>, ClientError> {
    let Some(file) = file else { return Ok(None) };
    let value = CredentialValue::new(read_credential(file)?.to_string());
    let need_name =
        || ClientError::Input("--credential-name NAME is needed for a header or query credential".into());
    Ok(Some(match kind.unwrap_or(CredentialKind::Header) {
        CredentialKind::Header => EndpointCredential::Header { name: name.ok_or_else(need_name)?, value },
        CredentialKind::Query => EndpointCredential::Query { name: name.ok_or_else(need_name)?, value },
        CredentialKind::Path => {
            if name.is_some() {
                return Err(ClientError::Input("a path credential has no --credential-name".into()));
            }
            EndpointCredential::PathSegment { value }
        }
    }))
}

fn body(args: Args) -> Result<(), ClientError> {
    let api = args.admin.client()?;
    match args.command {
        AdminCommand::Wallet { command } => wallet(&api, command),
    }
}

fn wallet(api: &BrokerClient, command: WalletCommand) -> Result<(), ClientError> {
    match command {
        WalletCommand::Endpoint { command } => endpoint(api, command),
        WalletCommand::Token { command } => token(api, command),
        WalletCommand::Addresses { address, format } => {
            let rows = block_on(async { Ok(api.wallet_held_addresses(address.as_deref()).await?) })?;
            if format == Format::Json {
                return print_json(&rows);
            }
            if rows.is_empty() {
                println!("no published addresses");
            }
            for r in rows {
                let a = &r.address;
                println!(
                    "{}  {}:{}  {}  {}",
                    printable(&a.address),
                    a.chain,
                    printable(&a.network),
                    printable(&a.path),
                    printable(&r.user_name)
                );
            }
            Ok(())
        }
    }
}

fn endpoint(api: &BrokerClient, command: EndpointCommand) -> Result<(), ClientError> {
    match command {
        EndpointCommand::Set {
            chain: c,
            network,
            chain_id,
            url,
            credential_kind,
            credential_name,
            credential_file,
            clear_credential,
            disabled,
            format,
        } => {
            let body = EndpointSet {
                chain: chain(&c)?,
                network,
                chain_id,
                url,
                credential: credential(credential_kind, credential_name, credential_file.as_deref())?,
                clear_credential,
                enabled: !disabled,
            };
            let v = block_on(async { Ok(api.set_wallet_endpoint(&body).await?) })?;
            match format {
                Format::Json => print_json(&v)?,
                Format::Text => println!(
                    "{} set: {} (credential {}, {})",
                    v.id,
                    printable(&v.url),
                    if v.credential_set { "set" } else { "none" },
                    if v.enabled { "enabled" } else { "disabled" }
                ),
            }
        }
        EndpointCommand::List { format } => {
            let rows = block_on(async { Ok(api.wallet_endpoints().await?) })?;
            if format == Format::Json {
                return print_json(&rows);
            }
            if rows.is_empty() {
                println!("no endpoints");
            }
            for v in rows {
                let id = v.chain_id.map(|i| format!(" chain id {i}")).unwrap_or_default();
                println!(
                    "{}{id}  {}  credential {}  {}",
                    printable(&v.id),
                    printable(&v.url),
                    if v.credential_set { "set" } else { "none" },
                    if v.enabled { "enabled" } else { "disabled" }
                );
            }
        }
        EndpointCommand::Remove { chain: c, network } => {
            let id = blindvault_client::wallet::endpoint_id(chain(&c)?, &network);
            block_on(async { Ok(api.remove_wallet_endpoint(&id).await?) })?;
            println!("removed {}", printable(&id));
        }
    }
    Ok(())
}

fn token(api: &BrokerClient, command: TokenCommand) -> Result<(), ClientError> {
    match command {
        TokenCommand::Add { chain: c, network, contract, symbol, decimals, format } => {
            let body = TokenSet { chain: chain(&c)?, network, contract, symbol, decimals };
            let t = block_on(async { Ok(api.add_wallet_token(&body).await?) })?;
            match format {
                Format::Json => print_json(&t)?,
                Format::Text => println!("{}  {}", t.id, printable(&t.symbol)),
            }
        }
        TokenCommand::List { format } => {
            let rows = block_on(async { Ok(api.wallet_tokens().await?) })?;
            if format == Format::Json {
                return print_json(&rows);
            }
            if rows.is_empty() {
                println!("no tokens");
            }
            for t in rows {
                println!(
                    "{}  {}:{}  {:<8} {:>2} decimals  {}",
                    t.id,
                    t.chain,
                    printable(&t.network),
                    printable(&t.symbol),
                    t.decimals,
                    printable(&t.contract)
                );
            }
        }
        TokenCommand::Remove { id } => {
            block_on(async { Ok(api.remove_wallet_token(&id).await?) })?;
            println!("removed {}", printable(&id));
        }
    }
    Ok(())
}
