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
    /// Build and sign a Bitcoin payment from the mnemonic's BIP-84 account (read from standard
    /// input), offline: coins and previous transactions come from a file of chain API replies;
    /// prints what is paid, the fee and the change, and the signed transaction (not broadcast).
    Send(SendArgs),
}

#[derive(clap::Args, Debug)]
struct SendArgs {
    /// Bitcoin network: bitcoin, testnet, testnet4, signet, regtest.
    #[arg(long, default_value = "bitcoin")]
    network: String,
    /// A JSON file of Esplora API replies: {"utxos": {"<address>": <reply of GET
    /// /address/:address/utxo>, …}, "transactions": [<reply of GET /tx/:txid/hex>, …]} for the
    /// wallet's addresses (first 20 receive and change) and the transactions of their coins.
    #[arg(long)]
    chain_data: std::path::PathBuf,
    /// The recipient's address.
    #[arg(long)]
    to: String,
    /// The amount in satoshis (the fee comes on top).
    #[arg(long, conflicts_with = "all", required_unless_present = "all")]
    amount: Option<u64>,
    /// Send every coin, less the fee, with no change.
    #[arg(long)]
    all: bool,
    /// Fee rate in sat/vB (1 to 1000).
    #[arg(long)]
    fee_rate: u64,
    /// The index of the next unused change address (m/84'/c'/0'/1/i).
    #[arg(long, default_value_t = 0)]
    change_index: u32,
    /// A file holding the BIP-39 passphrase (one trailing newline is ignored).
    #[arg(long)]
    passphrase_file: Option<std::path::PathBuf>,
    /// table (default) or json: {"confirmation": …, "txid", "tx_hex", "vsize"}.
    #[arg(long, default_value = "table")]
    format: String,
}

/// The `--chain-data` file.
#[derive(serde::Deserialize)]
struct ChainData {
    /// Address → the body of `GET /address/:address/utxo` (a JSON array).
    utxos: std::collections::BTreeMap<String, serde_json::Value>,
    /// Bodies of `GET /tx/:txid/hex`.
    transactions: Vec<String>,
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
        WalletCommand::Send(a) => send(a),
    }
}

fn send(a: SendArgs) -> anyhow::Result<ExitCode> {
    let json = match a.format.as_str() {
        "table" => false,
        "json" => true,
        other => bail!("unknown --format {other:?} (expected table or json)"),
    };
    let network = btc::parse_network(&a.network)?;
    let text = std::fs::read_to_string(&a.chain_data)
        .with_context(|| format!("reading --chain-data {}", a.chain_data.display()))?;
    let data: ChainData = serde_json::from_str(&text).with_context(|| {
        format!(
            "--chain-data {} is not {{\"utxos\": {{address: [utxo, …]}}, \"transactions\": [hex, …]}}",
            a.chain_data.display()
        )
    })?;
    let prev_txs = data
        .transactions
        .iter()
        .map(|t| btc::esplora::parse_tx_hex(t))
        .collect::<Result<Vec<_>, _>>()
        .context("--chain-data transactions")?;
    let amount = match (a.amount, a.all) {
        (Some(sat), false) => btc::SendAmount::Exact(sat),
        (None, true) => btc::SendAmount::All,
        _ => bail!("give either --amount SAT or --all"),
    };
    let wallet = read_wallet(a.passphrase_file.as_deref(), "send")?;
    let signer = wallet.bitcoin_signer(network)?;
    let mut coins = Vec::new();
    for (address, reply) in &data.utxos {
        coins.extend(
            signer
                .coins_at(address, &reply.to_string())
                .with_context(|| format!("--chain-data utxos of {address}"))?,
        );
    }
    let request = btc::SendRequest {
        recipient: a.to.clone(),
        amount,
        fee_rate_sat_vb: a.fee_rate,
        change_index: a.change_index,
    };
    let plan = signer.plan_send(&coins, &prev_txs, &request)?;
    let confirmation = plan.confirmation();
    let signed = signer.sign_send(&plan, &plan.review)?;
    if json {
        let out = serde_json::json!({
            "confirmation": confirmation,
            "txid": signed.txid.to_string(),
            "tx_hex": signed.tx_hex,
            "vsize": signed.vsize,
        });
        println!("{}", serde_json::to_string_pretty(&out).context("encoding the result")?);
        return Ok(ExitCode::SUCCESS);
    }
    let c = &confirmation;
    println!("network   {}", c.network);
    for r in &c.recipients {
        println!(
            "pay       {} sat to {}",
            r.value_sat,
            r.address.as_deref().unwrap_or("(a script with no address)")
        );
    }
    for ch in &c.change {
        println!(
            "change    {} sat to {} ({})",
            ch.value_sat,
            ch.address.as_deref().unwrap_or("?"),
            ch.change.as_deref().unwrap_or("?")
        );
    }
    let dust = if c.dust_to_fee_sat > 0 {
        format!(" + {} sat change too small to keep", c.dust_to_fee_sat)
    } else {
        String::new()
    };
    println!("fee       {} sat = {} vB x {} sat/vB{dust}", c.fee_sat, c.vsize, c.fee_rate_sat_vb);
    println!(
        "spends    {} coin(s); leaves the wallet: {} sat; replaceable (RBF): {}",
        c.input_count,
        c.leaves_wallet_sat,
        if c.replaceable { "yes" } else { "no" }
    );
    println!("txid      {}", signed.txid);
    println!("signed transaction ({} vB), not broadcast (POST it to an Esplora API's /tx):", signed.vsize);
    println!("{}", signed.tx_hex);
    Ok(ExitCode::SUCCESS)
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

    let wallet = read_wallet(a.passphrase_file.as_deref(), "addresses")?;

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

/// The wallet of the mnemonic on standard input and the optional passphrase file.
fn read_wallet(passphrase_file: Option<&std::path::Path>, command: &str) -> anyhow::Result<Wallet> {
    let mut phrase = Zeroizing::new(String::new());
    std::io::stdin().read_to_string(&mut phrase).context("reading the mnemonic from standard input")?;
    let words = Zeroizing::new(phrase.split_whitespace().collect::<Vec<_>>().join(" "));
    if words.is_empty() {
        bail!("no mnemonic on standard input (pipe it in, e.g. `blindvault wallet {command} < backup.txt`)");
    }
    let passphrase = match passphrase_file {
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
    Ok(wallet)
}
