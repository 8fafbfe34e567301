//! `blindvault admin wallet`: the admin sets each chain's RPC endpoint with its credential read
//! from a file or stdin (never argv), lists endpoints (the credential never shown), removes them,
//! and keeps the default token list.

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output, Stdio};

use anyhow::{Context, ensure};
use blindvault_testkit::{Backend, Device, TestServer};
use serde_json::{Value, json};

blindvault_testkit::both!(admin_wallet_endpoints_and_tokens_from_the_command_line);

const SECRET: &str = "infura-project-secret-0123456789abcdef";

struct Admin {
    url: String,
    dir: tempfile::TempDir,
}

impl Admin {
    async fn bv(&self, args: &[&str], stdin: Option<&str>) -> anyhow::Result<Output> {
        let mut c = Command::new(env!("CARGO_BIN_EXE_blindvault"));
        c.args(args)
            .env("HOME", self.dir.path())
            .env("BLINDVAULT_SERVER", &self.url)
            .env("BLINDVAULT_TOKEN_FILE", self.dir.path().join("token"))
            .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let input = stdin.map(str::to_owned);
        tokio::task::spawn_blocking(move || {
            let mut child = c.spawn()?;
            if let Some(input) = input {
                use std::io::Write;
                child.stdin.take().context("stdin")?.write_all(input.as_bytes())?;
            }
            Ok::<_, anyhow::Error>(child.wait_with_output()?)
        })
        .await?
    }
}

fn text(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

async fn admin_wallet_endpoints_and_tokens_from_the_command_line(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let code = server.setup_code.clone().context("setup code")?;
    let mut root_phone = Device::new();
    let mut root = root_phone.register(&server, "root").await?;
    root.agent.post("/api/setup/claim", json!({ "code": code })).await?.ok()?;
    let dir = tempfile::tempdir()?;
    // The admin makes a command-line token in the web app and saves it in a file only they read.
    let made = root_phone.create_token(&server, &mut root.agent, "laptop", "admin", None).await?;
    std::fs::write(dir.path().join("token"), format!("{}\n", made.token))?;
    std::fs::set_permissions(dir.path().join("token"), std::fs::Permissions::from_mode(0o600))?;
    std::fs::write(dir.path().join("key"), format!("{SECRET}\n"))?;
    let key = dir.path().join("key").display().to_string();
    let a = Admin { url: format!("http://localhost:{}", server.origin.port().context("port")?), dir };
    // Set, with the key as Infura's path segment, read from a file.
    let out = a
        .bv(
            &[
                "admin",
                "wallet",
                "endpoint",
                "set",
                "--chain",
                "evm",
                "--network",
                "sepolia",
                "--chain-id",
                "11155111",
                "--url",
                "https://sepolia.infura.io/v3",
                "--credential-kind",
                "path",
                "--credential-file",
                &key,
            ],
            None,
        )
        .await?;
    ensure!(out.status.success(), "{:?}", text(&out));
    ensure!(text(&out).0.contains("evm:sepolia set") && !text(&out).0.contains(SECRET), "{:?}", text(&out));
    // A header credential from stdin.
    let out = a
        .bv(
            &[
                "admin",
                "wallet",
                "endpoint",
                "set",
                "--chain",
                "tron",
                "--network",
                "nile",
                "--url",
                "https://nile.trongrid.io",
                "--credential-name",
                "TRON-PRO-API-KEY",
                "--credential-file",
                "-",
                "--format",
                "json",
            ],
            Some("tron-key-0123456789\n"),
        )
        .await?;
    ensure!(out.status.success(), "{:?}", text(&out));
    let v: Value = serde_json::from_str(&text(&out).0)?;
    ensure!(v["id"] == "tron:nile" && v["credential_set"] == true, "{v}");
    // The list shows whether a credential is set, never the credential.
    let out = a.bv(&["admin", "wallet", "endpoint", "list", "--format", "json"], None).await?;
    ensure!(out.status.success() && !text(&out).0.contains(SECRET), "{:?}", text(&out));
    let rows: Value = serde_json::from_str(&text(&out).0)?;
    ensure!(rows.as_array().map(Vec::len) == Some(2) && rows[0]["credential_set"] == true, "{rows}");
    // The server stored it, where the gateway will use it.
    let stored: String = sqlx::query_scalar("SELECT credential FROM wallet_endpoints WHERE chain = 'evm'")
        .fetch_one(server.state.store.pool())
        .await?;
    ensure!(stored.contains(SECRET) && stored.contains("path_segment"));
    // Bad input says what to do, exit 1, nothing sent.
    for (args, says) in [
        (
            vec![
                "--chain",
                "evm",
                "--network",
                "x",
                "--chain-id",
                "1",
                "--url",
                "https://x",
                "--credential-kind",
                "header",
                "--credential-file",
                &key,
            ],
            "--credential-name",
        ),
        (
            vec!["--chain", "evm", "--network", "x", "--chain-id", "1", "--url", "ftp://x"],
            "wallet_invalid_url",
        ),
        (vec!["--chain", "evm", "--network", "x", "--url", "https://x"], "chain id"),
        (
            vec![
                "--chain",
                "evm",
                "--network",
                "x",
                "--chain-id",
                "1",
                "--url",
                "https://x",
                "--credential-file",
                "/nonexistent",
            ],
            "cannot read",
        ),
    ] {
        let mut full = vec!["admin", "wallet", "endpoint", "set"];
        full.extend(args);
        let out = a.bv(&full, None).await?;
        ensure!(out.status.code() == Some(1) && text(&out).1.contains(says), "{says}: {:?}", text(&out));
    }
    let out = a
        .bv(&["admin", "wallet", "endpoint", "remove", "--chain", "tron", "--network", "nile"], None)
        .await?;
    ensure!(out.status.success(), "{:?}", text(&out));
    let out = a
        .bv(&["admin", "wallet", "endpoint", "remove", "--chain", "tron", "--network", "nile"], None)
        .await?;
    ensure!(
        out.status.code() == Some(1) && text(&out).1.contains("wallet_endpoint_not_found"),
        "{:?}",
        text(&out)
    );
    // Tokens.
    let out = a
        .bv(
            &[
                "admin",
                "wallet",
                "token",
                "add",
                "--chain",
                "evm",
                "--network",
                "sepolia",
                "--contract",
                "0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238",
                "--symbol",
                "USDC",
                "--decimals",
                "6",
                "--format",
                "json",
            ],
            None,
        )
        .await?;
    ensure!(out.status.success(), "{:?}", text(&out));
    let t: Value = serde_json::from_str(&text(&out).0)?;
    let id = t["id"].as_str().context("id")?.to_owned();
    let out = a.bv(&["admin", "wallet", "token", "list"], None).await?;
    ensure!(text(&out).0.contains("USDC") && text(&out).0.contains(&id), "{:?}", text(&out));
    let out = a.bv(&["admin", "wallet", "token", "remove", &id], None).await?;
    ensure!(out.status.success(), "{:?}", text(&out));
    let out = a.bv(&["admin", "wallet", "token", "list"], None).await?;
    ensure!(text(&out).0.contains("no tokens"), "{:?}", text(&out));
    // Who holds which address.
    root.agent
        .post("/api/wallet/addresses", json!({ "chain": "evm", "network": "sepolia", "path": "m/44'/60'/0'/0/0", "address": "0x52908400098527886E0F7030069857D2E4169EE7" }))
        .await?
        .ok()?;
    let out = a.bv(&["admin", "wallet", "addresses"], None).await?;
    ensure!(
        text(&out).0.contains("0x52908400098527886E0F7030069857D2E4169EE7") && text(&out).0.contains("root"),
        "{:?}",
        text(&out)
    );
    Ok(())
}
