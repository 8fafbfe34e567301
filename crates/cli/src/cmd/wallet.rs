//! `blindvault wallet …`: tools for people who hold a BIP-39 mnemonic (moving to or from another
//! wallet, checking a backup), and a watch-only view of another wallet's Bitcoin account. The
//! mnemonic and the extended key are read from standard input, never from argv.

use std::io::Read;
use std::process::ExitCode;

use anyhow::{Context, bail};
use blindvault_wallet::btc::{self, Network};
use blindvault_wallet::derive::parse_path;
use blindvault_wallet::zeroize::Zeroizing;
use blindvault_wallet::{Chain, DerivedAddress, Wallet};

/// Arguments of `blindvault wallet`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    command: WalletCommand,
}

#[derive(clap::Subcommand, Debug)]
enum WalletCommand {
    /// Print the addresses of a mnemonic read from standard input.
    Addresses(AddressesArgs),
    /// Watch another wallet's Bitcoin account: print the receive and change addresses of an
    /// extended public key (xpub, ypub, zpub; tpub, upub, vpub) read from standard input.
    Watch(WatchArgs),
}

#[derive(clap::Args, Debug)]
struct WatchArgs {
    /// Bitcoin network: bitcoin, testnet, testnet4, signet, regtest (xpub/ypub/zpub are
    /// mainnet keys, tpub/upub/vpub test-network ones).
    #[arg(long, default_value = "bitcoin")]
    network: String,
    /// The address type of an xpub/tpub: p2pkh (default, BIP-44), p2sh-p2wpkh, p2wpkh or p2tr
    /// (BIP-86 exports a plain xpub). A ypub/upub is always p2sh-p2wpkh, a zpub/vpub p2wpkh.
    #[arg(long = "type")]
    address_type: Option<String>,
    /// How many receive and how many change addresses.
    #[arg(long, default_value_t = 5)]
    count: u32,
    /// The first address index.
    #[arg(long, default_value_t = 0)]
    index: u32,
    /// table (default) or json: a list of {"branch", "index", "address"}.
    #[arg(long, default_value = "table")]
    format: String,
}

#[derive(clap::Args, Debug)]
struct AddressesArgs {
    /// evm, bitcoin, solana, tron, ton or all.
    #[arg(long, default_value = "all")]
    chain: String,
    /// How many consecutive addresses per chain.
    #[arg(long, default_value_t = 1)]
    count: u32,
    /// The first address index.
    #[arg(long, default_value_t = 0)]
    index: u32,
    /// Derive exactly this path instead (one chain), e.g. m/44'/501'/0' for Trust Wallet's Solana.
    /// For bitcoin the address type follows the purpose: 44' P2PKH (1…), 49' P2SH-P2WPKH (3…),
    /// 84' P2WPKH (bc1q…), 86' P2TR (bc1p…).
    #[arg(long)]
    path: Option<String>,
    /// table (default) or json: a list of {"chain", "path", "address"}.
    #[arg(long, default_value = "table")]
    format: String,
    /// A file holding the BIP-39 passphrase (one trailing newline is ignored).
    #[arg(long)]
    passphrase_file: Option<std::path::PathBuf>,
    /// Bitcoin network for bitcoin addresses: bitcoin, testnet, testnet4, signet, regtest
    /// (coin type 1 in the default path off mainnet).
    #[arg(long, default_value = "bitcoin")]
    network: String,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        WalletCommand::Addresses(a) => addresses(a),
        WalletCommand::Watch(a) => watch(a),
    }
}

/// One watched address, as `--format json` prints it.
#[derive(serde::Serialize)]
struct WatchedAddress {
    /// `receive` (`key/0/i`) or `change` (`key/1/i`).
    branch: &'static str,
    index: u32,
    address: String,
}

fn watch(a: WatchArgs) -> anyhow::Result<ExitCode> {
    let json = match a.format.as_str() {
        "table" => false,
        "json" => true,
        other => bail!("unknown --format {other:?} (expected table or json)"),
    };
    let network = btc::parse_network(&a.network)?;
    let chosen = match a.address_type.as_deref() {
        None => None,
        Some(t) => Some(
            btc::AddressType::ALL
                .into_iter()
                .find(|ty| ty.name() == t.trim().to_ascii_lowercase())
                .with_context(|| {
                    format!("unknown --type {t:?} (expected p2pkh, p2sh-p2wpkh, p2wpkh or p2tr)")
                })?,
        ),
    };
    if a.count == 0 || a.count > 10_000 {
        bail!("--count must be between 1 and 10000");
    }
    // From standard input, not argv: a private key pasted by mistake stays out of the shell's
    // history and the process list (and the wallet's errors never repeat it).
    let mut text = Zeroizing::new(String::new());
    std::io::stdin()
        .read_to_string(&mut text)
        .context("reading the extended public key from standard input")?;
    if text.trim().is_empty() {
        bail!(
            "no extended public key on standard input (pipe it in, e.g. `blindvault wallet watch < zpub.txt`)"
        );
    }
    let account = btc::WatchOnlyAccount::parse(&text, network, chosen)?;
    let mut out = Vec::new();
    for (branch, change) in [("receive", false), ("change", true)] {
        for (i, address) in account.addresses(change, a.index, a.count)?.into_iter().enumerate() {
            let index = a.index.saturating_add(u32::try_from(i).unwrap_or(u32::MAX));
            out.push(WatchedAddress { branch, index, address: address.to_string() });
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&out).context("encoding the addresses")?);
    } else {
        println!(
            "{} account ({}, {}, depth {}): receive addresses are key/0/i, change key/1/i",
            account.prefix(),
            account.address_type(),
            account.network(),
            account.depth()
        );
        println!("{:<8} {:>6} ADDRESS", "BRANCH", "INDEX");
        for w in &out {
            println!("{:<8} {:>6} {}", w.branch, w.index, w.address);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn addresses(a: AddressesArgs) -> anyhow::Result<ExitCode> {
    let json = match a.format.as_str() {
        "table" => false,
        "json" => true,
        other => bail!("unknown --format {other:?} (expected table or json)"),
    };
    let chains: Vec<Chain> =
        if a.chain.trim().eq_ignore_ascii_case("all") { Chain::ALL.to_vec() } else { vec![a.chain.parse()?] };
    let network = btc::parse_network(&a.network)?;
    let path = match &a.path {
        Some(p) => {
            if chains.len() != 1 {
                bail!("--path needs one --chain (not all)");
            }
            Some(parse_path(p)?)
        }
        None => None,
    };
    if a.count == 0 || a.count > 10_000 {
        bail!("--count must be between 1 and 10000");
    }

    let mut phrase = Zeroizing::new(String::new());
    std::io::stdin().read_to_string(&mut phrase).context("reading the mnemonic from standard input")?;
    let words = Zeroizing::new(phrase.split_whitespace().collect::<Vec<_>>().join(" "));
    if words.is_empty() {
        bail!("no mnemonic on standard input (pipe it in, e.g. `blindvault wallet addresses < backup.txt`)");
    }
    let passphrase = match &a.passphrase_file {
        Some(f) => {
            let mut p = Zeroizing::new(
                std::fs::read_to_string(f)
                    .with_context(|| format!("reading passphrase file {}", f.display()))?,
            );
            if p.ends_with('\n') {
                p.pop();
                if p.ends_with('\r') {
                    p.pop();
                }
            }
            p
        }
        None => Zeroizing::new(String::new()),
    };
    let wallet = Wallet::from_mnemonic(&words, &passphrase)?;

    let mut out: Vec<DerivedAddress> = Vec::new();
    for chain in chains {
        let paths = match &path {
            Some(p) => vec![p.clone()],
            None => (0..a.count)
                .map(|i| {
                    let index = a.index.checked_add(i).context("address index overflows")?;
                    default_path(chain, index, network)
                })
                .collect::<anyhow::Result<Vec<_>>>()?,
        };
        for p in paths {
            // Bitcoin: the address type follows the path's purpose (44' 1…, 49' 3…, 84' bc1q…,
            // 86' bc1p…), on the network asked for.
            out.push(if chain == Chain::Bitcoin {
                wallet.bitcoin_address_at(&p, network)?
            } else {
                wallet.address_at(chain, &p)?
            });
        }
    }

    if json {
        println!("{}", blindvault_wallet::addresses_to_json(&out));
    } else {
        let pw = out.iter().map(|d| d.path.len()).max().unwrap_or(4).max(4);
        println!("{:<8} {:<pw$} ADDRESS", "CHAIN", "PATH");
        for d in &out {
            println!("{:<8} {:<pw$} {}", d.chain, d.path, d.address);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn default_path(
    chain: Chain,
    index: u32,
    network: Network,
) -> anyhow::Result<blindvault_wallet::derive::Path> {
    if chain == Chain::Bitcoin && network != Network::Bitcoin {
        return Ok(parse_path(&format!("m/84'/{}'/0'/0/{index}", btc::coin_type(network)))?);
    }
    Ok(chain.default_path(index)?)
}
