//! The wallet's server side without the gateway: the admin's endpoints (the credential is
//! write-only) and default tokens, and the public addresses people publish (never private
//! material), each change audited.

use anyhow::{Context, ensure};
use blindvault_api::ErrorCode;
use blindvault_api::wallet::{
    AddressList, AddressView, EndpointList, EndpointView, HeldAddressList, NetworkList, TokenList, TokenView,
};
use blindvault_testkit::{Agent, Backend, Device, SignedIn, TestServer};
use serde_json::{Value, json};

both!(
    wallet_endpoints_are_admin_only_audited_and_the_credential_write_only,
    wallet_tokens_are_the_admins_list,
    wallet_addresses_are_public_only_and_the_admin_sees_who_holds_them,
);

/// The first admin (an invited account that claims the setup code).
pub(crate) async fn admin(server: &TestServer) -> anyhow::Result<SignedIn> {
    let code = server.setup_code.clone().context("setup code")?;
    let mut root = Device::new().register(server, "root").await?;
    root.agent.post("/api/setup/claim", json!({ "code": code })).await?.ok()?;
    Ok(root)
}

/// Every audit row with `action`, its detail parsed.
pub(crate) async fn audit_rows(admin: &mut Agent, action: &str) -> anyhow::Result<Vec<(Value, Value)>> {
    let rows = admin.get("/api/admin/audit?limit=1000").await?.ok()?;
    let mut out = Vec::new();
    for r in rows.body["rows"].as_array().cloned().unwrap_or_default() {
        if r["action"] == action {
            let detail: Value = serde_json::from_str(r["detail"].as_str().unwrap_or("{}"))?;
            out.push((r, detail));
        }
    }
    Ok(out)
}

const SECRET: &str = "sk-live-4f2a9c1e7b3d5a8f0e6c2b9d1a7f3e5c";

async fn wallet_endpoints_are_admin_only_audited_and_the_credential_write_only(
    b: Backend,
) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let mut root = admin(&server).await?;
    let mut bob = Device::new().register(&server, "bob").await?;
    let set = json!({
        "chain": "evm", "network": "sepolia", "chain_id": 11155111, "url": "https://rpc.example/v1",
        "credential": { "kind": "header", "name": "x-api-key", "value": SECRET },
    });
    // Not an admin, not signed in.
    let r = bob.agent.put("/api/admin/wallet/endpoints", set.clone()).await?;
    ensure!(r.status == 403 && r.code() == Some(ErrorCode::Forbidden), "{r:?}");
    let r = server.agent().put("/api/admin/wallet/endpoints", set.clone()).await?;
    ensure!(r.status == 401, "{r:?}");
    // Set: the answer says a credential is set, and is not it.
    let r = root.agent.put("/api/admin/wallet/endpoints", set.clone()).await?.ok()?;
    ensure!(!r.body.to_string().contains(SECRET));
    let view: EndpointView = serde_json::from_value(r.body)?;
    ensure!(
        view.id == "evm:sepolia" && view.credential_set && view.enabled && view.chain_id == Some(11155111)
    );
    ensure!(view.url == "https://rpc.example/v1" && view.updated_by == root.user_id);
    // A set without a credential keeps it; clear_credential removes it.
    let mut keep = set.clone();
    keep.as_object_mut().context("object")?.remove("credential");
    keep["url"] = json!("https://rpc2.example/v1");
    let r = root.agent.put("/api/admin/wallet/endpoints", keep.clone()).await?.ok()?;
    ensure!(r.body["credential_set"] == true && r.body["url"] == "https://rpc2.example/v1", "{r:?}");
    // Bad input: each with its code, nothing written.
    let mut bad = Vec::new();
    for (field, value, code) in [
        ("url", json!("ftp://rpc.example/"), ErrorCode::WalletInvalidUrl),
        ("url", json!("https://user:pw@rpc.example/"), ErrorCode::WalletInvalidUrl),
        ("url", json!("https://rpc.example/?key=1"), ErrorCode::WalletInvalidUrl),
        ("chain_id", Value::Null, ErrorCode::WalletInvalidNetwork),
        ("network", json!("Sepolia"), ErrorCode::WalletInvalidNetwork),
        (
            "credential",
            json!({ "kind": "header", "name": "host", "value": "x" }),
            ErrorCode::WalletInvalidCredential,
        ),
        ("credential", json!({ "kind": "path_segment", "value": ".." }), ErrorCode::WalletInvalidCredential),
        ("clear_credential", json!(true), ErrorCode::WalletInvalidCredential),
    ] {
        let mut body = set.clone();
        body[field] = value;
        bad.push((root.agent.put("/api/admin/wallet/endpoints", body).await?, code));
    }
    let mut body = set.clone();
    body["chain"] = json!("ton");
    bad.push((root.agent.put("/api/admin/wallet/endpoints", body).await?, ErrorCode::WalletInvalidNetwork));
    for (r, code) in bad {
        ensure!(r.status == 400 && r.code() == Some(code), "{code:?}: {r:?}");
    }
    let list: EndpointList =
        serde_json::from_value(root.agent.get("/api/admin/wallet/endpoints").await?.ok()?.body)?;
    ensure!(list.endpoints.len() == 1 && list.endpoints[0].url == "https://rpc2.example/v1");
    // People see the network, not the URL or the credential; a disabled one not at all.
    let nets = bob.agent.get("/api/wallet/networks").await?.ok()?;
    ensure!(!nets.body.to_string().contains("rpc2.example"));
    let nets: NetworkList = serde_json::from_value(nets.body)?;
    ensure!(nets.networks.len() == 1 && nets.networks[0].chain_id == Some(11155111));
    keep["enabled"] = json!(false);
    root.agent.put("/api/admin/wallet/endpoints", keep).await?.ok()?;
    let nets: NetworkList = serde_json::from_value(bob.agent.get("/api/wallet/networks").await?.ok()?.body)?;
    ensure!(nets.networks.is_empty());
    // Remove: admin only, then gone; a second time 404.
    let r = bob.agent.delete("/api/admin/wallet/endpoints/evm:sepolia").await?;
    ensure!(r.status == 403, "{r:?}");
    root.agent.delete("/api/admin/wallet/endpoints/evm:sepolia").await?.ok()?;
    for id in ["evm:sepolia", "nochain:x", "evm"] {
        let r = root.agent.delete(&format!("/api/admin/wallet/endpoints/{id}")).await?;
        ensure!(r.status == 404 && r.code() == Some(ErrorCode::WalletEndpointNotFound), "{r:?}");
    }
    // Audited: three sets and a delete, by the admin, and no row holds the credential.
    let sets = audit_rows(&mut root.agent, "admin.wallet.endpoint.set").await?;
    ensure!(sets.len() == 3, "{sets:?}");
    ensure!(sets[0].1["credential"] == "set" && sets[1].1["credential"] == "kept", "{sets:?}");
    ensure!(sets.iter().all(|(r, _)| r["actor"] == root.user_id.as_str() && r["target"] == "evm:sepolia"));
    ensure!(audit_rows(&mut root.agent, "admin.wallet.endpoint.delete").await?.len() == 1);
    let all = root.agent.get("/api/admin/audit?limit=1000").await?.ok()?;
    ensure!(!all.body.to_string().contains(SECRET));
    Ok(())
}

async fn wallet_tokens_are_the_admins_list(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let mut root = admin(&server).await?;
    let mut bob = Device::new().register(&server, "bob").await?;
    let usdc = json!({ "chain": "evm", "network": "sepolia", "contract": "0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238", "symbol": "USDC", "decimals": 6 });
    let r = bob.agent.post("/api/admin/wallet/tokens", usdc.clone()).await?;
    ensure!(r.status == 403, "{r:?}");
    let t: TokenView =
        serde_json::from_value(root.agent.post("/api/admin/wallet/tokens", usdc.clone()).await?.ok()?.body)?;
    // The same contract again updates it (one row).
    let mut again = usdc.clone();
    again["symbol"] = json!("USDC.e");
    let t2: TokenView =
        serde_json::from_value(root.agent.post("/api/admin/wallet/tokens", again).await?.ok()?.body)?;
    ensure!(t2.id == t.id && t2.symbol == "USDC.e");
    let spl = json!({ "chain": "solana", "network": "devnet", "contract": "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU", "symbol": "USDC", "decimals": 6 });
    root.agent.post("/api/admin/wallet/tokens", spl).await?.ok()?;
    for (field, value) in [
        ("contract", json!("0x1234")),
        ("chain", json!("bitcoin")),
        ("decimals", json!(40)),
        ("symbol", json!("")),
        (
            "symbol",
            json!(
                "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
            ),
        ),
    ] {
        let mut body = usdc.clone();
        body[field] = value;
        let r = root.agent.post("/api/admin/wallet/tokens", body).await?;
        ensure!(r.status == 400, "{field}: {r:?}");
    }
    // Signed-in people read the list.
    let list: TokenList = serde_json::from_value(bob.agent.get("/api/wallet/tokens").await?.ok()?.body)?;
    ensure!(list.tokens.len() == 2 && list.tokens.iter().any(|t| t.symbol == "USDC.e"));
    ensure!(server.agent().get("/api/wallet/tokens").await?.status == 401);
    root.agent.delete(&format!("/api/admin/wallet/tokens/{}", t.id)).await?.ok()?;
    let r = root.agent.delete(&format!("/api/admin/wallet/tokens/{}", t.id)).await?;
    ensure!(r.status == 404 && r.code() == Some(ErrorCode::WalletTokenNotFound), "{r:?}");
    ensure!(audit_rows(&mut root.agent, "admin.wallet.token.set").await?.len() == 3);
    ensure!(audit_rows(&mut root.agent, "admin.wallet.token.delete").await?.len() == 1);
    Ok(())
}

async fn wallet_addresses_are_public_only_and_the_admin_sees_who_holds_them(
    b: Backend,
) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let mut root = admin(&server).await?;
    let mut alice = Device::new().register(&server, "alice").await?;
    let mut bob = Device::new().register(&server, "bob").await?;
    let btc = "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu";
    let publish = json!({ "chain": "bitcoin", "network": "mainnet", "path": "m/84'/0'/0'/0/0", "address": btc, "label": "savings" });
    let a: AddressView =
        serde_json::from_value(alice.agent.post("/api/wallet/addresses", publish.clone()).await?.ok()?.body)?;
    ensure!(a.address == btc && a.label.as_deref() == Some("savings"));
    let evm = json!({ "chain": "evm", "network": "sepolia", "path": "m/44'/60'/0'/0/0", "address": "0x52908400098527886E0F7030069857D2E4169EE7" });
    alice.agent.post("/api/wallet/addresses", evm).await?.ok()?;
    // Private material is refused by name, whatever field it is in; malformed input by its code.
    let phrase =
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
    let key = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
    let xprv = "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi";
    for (field, value, code) in [
        ("address", json!(phrase), ErrorCode::WalletPrivateMaterialRefused),
        ("address", json!(key), ErrorCode::WalletPrivateMaterialRefused),
        ("address", json!(xprv), ErrorCode::WalletPrivateMaterialRefused),
        ("label", json!(phrase), ErrorCode::WalletPrivateMaterialRefused),
        ("path", json!(key), ErrorCode::WalletPrivateMaterialRefused),
        ("address", json!("0x52908400098527886E0F7030069857D2E4169EE7"), ErrorCode::WalletInvalidAddress),
        ("path", json!("m/84'/0'/x"), ErrorCode::WalletInvalidAddress),
        ("network", json!("main net"), ErrorCode::WalletInvalidNetwork),
    ] {
        let mut body = publish.clone();
        body[field] = value;
        let r = bob.agent.post("/api/wallet/addresses", body).await?;
        ensure!(r.status == 400 && r.code() == Some(code), "{field} {code:?}: {r:?}");
    }
    // An unknown field (a "private_key" next to the address) is refused, not ignored.
    let mut extra = publish.clone();
    extra["private_key"] = json!(key);
    let r = bob.agent.post("/api/wallet/addresses", extra).await?;
    ensure!(r.status == 400 && r.code() == Some(ErrorCode::InvalidRequest), "{r:?}");
    // Bob publishes the same address (a shared wallet): each sees their own only.
    bob.agent.post("/api/wallet/addresses", publish.clone()).await?.ok()?;
    let mine: AddressList =
        serde_json::from_value(alice.agent.get("/api/wallet/addresses").await?.ok()?.body)?;
    ensure!(mine.addresses.len() == 2);
    let his: AddressList = serde_json::from_value(bob.agent.get("/api/wallet/addresses").await?.ok()?.body)?;
    ensure!(his.addresses.len() == 1 && his.addresses[0].id != a.id);
    // Bob cannot withdraw Alice's.
    let r = bob.agent.delete(&format!("/api/wallet/addresses/{}", a.id)).await?;
    ensure!(r.status == 404 && r.code() == Some(ErrorCode::WalletAddressNotFound), "{r:?}");
    // The admin sees who holds which; people cannot.
    ensure!(bob.agent.get("/api/admin/wallet/addresses").await?.status == 403);
    let held: HeldAddressList = serde_json::from_value(
        root.agent.get(&format!("/api/admin/wallet/addresses?address={btc}")).await?.ok()?.body,
    )?;
    let mut names: Vec<&str> = held.addresses.iter().map(|h| h.user_name.as_str()).collect();
    names.sort_unstable();
    ensure!(names == ["alice", "bob"], "{names:?}");
    let all: HeldAddressList =
        serde_json::from_value(root.agent.get("/api/admin/wallet/addresses").await?.ok()?.body)?;
    ensure!(all.addresses.len() == 3);
    alice.agent.delete(&format!("/api/wallet/addresses/{}", a.id)).await?.ok()?;
    let mine: AddressList =
        serde_json::from_value(alice.agent.get("/api/wallet/addresses").await?.ok()?.body)?;
    ensure!(mine.addresses.len() == 1);
    ensure!(audit_rows(&mut root.agent, "wallet.address.publish").await?.len() == 3);
    ensure!(audit_rows(&mut root.agent, "wallet.address.withdraw").await?.len() == 1);
    Ok(())
}
