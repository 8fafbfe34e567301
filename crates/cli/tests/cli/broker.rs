//! The blind broker end to end through the real `blindvault` binary: the admin's steps (org
//! init, org push, approver approve, secret put, host issue/revoke) and the consumer (`run`,
//! `inject`) are the CLI; the approvers' phones are test-kit passkey devices with PRF that verify
//! the chain from the org key they pinned, then open and re-seal. SQLite always; PostgreSQL when
//! `BLINDVAULT_TEST_DATABASE_URL` is set.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use blindvault_api::accounts::StepUpView;
use blindvault_api::broker::{EnrolmentView, OrgView};
use blindvault_api::broker_calls::RequestView;
use blindvault_api::ceremony::CeremonyStart;
use blindvault_api::paths;
use blindvault_client::api::ErrorCode;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use blindvault_core::entry::SealedEntry;
use blindvault_core::identity::{SignedHostCertificate, SignedRequest, verify_request};
use blindvault_core::keys::OrgPublicKey;
use blindvault_core::release::approve;
use blindvault_core::schedule::KeySchedule;
use blindvault_testkit::broker::b64_decode;
use blindvault_testkit::{Backend, Device, SignedIn, TestServer};
use serde_json::{Value, json};
use sqlx::Row as _;

use blindvault_testkit::both;

both!(
    backup_while_secrets_are_written_restores_and_releases,
    run_gets_the_secret_after_a_phone_approves,
    run_keeps_waiting_while_the_server_restarts,
    two_of_three_and_inject,
    two_secrets_in_one_run_approved_out_of_order,
    denial_exits_3_with_the_deniers_name,
    a_release_the_server_forged_is_refused,
    a_colluding_approver_cannot_choose_the_value,
    a_colluding_server_cannot_let_the_issuer_approve_alone,
    revoked_or_unknown_host_is_refused,
    admin_commands_fail_clearly,
    host_issue_says_what_is_wrong_and_key_files_stay_private,
    sigterm_while_waiting_withdraws_the_request,
    the_lease_ends_the_commands_whole_process_group,
    ending_the_lease_from_the_phone_stops_the_command_and_its_grandchild,
    approver_remove_walks_through_rotation,
    approver_remove_refuses_a_key_the_server_swapped,
    run_refuses_a_removed_device_that_the_server_put_back,
    the_admin_stops_when_its_revocation_record_and_the_servers_diverge,
    destructive_commands_wait_for_a_passkey_confirmation,
    host_issue_names_only_the_pinned_key_holder_as_issuer,
    login_keeps_the_token_and_a_revoked_token_is_refused_clearly,
    a_memory_dump_of_run_holds_no_secret_dek_or_ephemeral_key,
);

const PASSPHRASE: &str = "correct horse battery staple";

/// A dishonest phone's response: from its approver key, the request and the entry it was shown.
type Forge = dyn Fn(
    &blindvault_core::keys::ApproverSecretKey,
    &SignedRequest,
    &SealedEntry,
) -> anyhow::Result<blindvault_core::release::SealedResponse>;

fn b64(b: &[u8]) -> String {
    blindvault_core::encoding::b64::encode(b)
}
fn unb64(v: &Value) -> Vec<u8> {
    blindvault_core::encoding::b64::decode(v.as_str().unwrap_or_default()).unwrap_or_default()
}

/// An approver's phone.
struct Phone {
    name: String,
    device: Device,
    session: SignedIn,
    /// Pinned at enrolment (from the invite link, never from the server).
    pinned_org: OrgPublicKey,
}

struct World {
    server: TestServer,
    /// The admin's web-app session (where the CLI's token was made, and where the step-ups the
    /// admin's commands ask for are confirmed).
    admin: SignedIn,
    /// The admin's passkey device, until [`World::enrol_admin`] makes it an approver phone (then
    /// that phone confirms the step-ups).
    admin_device: Option<Device>,
    tmp: tempfile::TempDir,
    /// `http://localhost:PORT`: the server's configured origin, so the CLI's `Origin` matches.
    url: String,
    phones: Vec<Phone>,
    /// The id of the admin's command-line token (in the file `token`).
    token_id: String,
}

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

impl World {
    async fn new(b: Backend, names: &[&str]) -> anyhow::Result<Self> {
        let server = TestServer::start(b).await?;
        let code = server.setup_code.clone().context("setup code")?;
        let mut admin_device = Device::new();
        let mut admin = admin_device.register(&server, "admin").await?;
        admin.agent.post(paths::SETUP_CLAIM, json!({ "code": code })).await?.ok()?;
        let tmp = tempfile::tempdir()?;
        // The admin makes a command-line token in the web app (a step-up with their passkey)
        // and saves it in a file only they can read.
        let made = admin_device.create_token(&server, &mut admin.agent, "laptop", "admin", None).await?;
        std::fs::write(tmp.path().join("token"), format!("{}\n", made.token))?;
        std::fs::set_permissions(tmp.path().join("token"), std::fs::Permissions::from_mode(0o600))?;
        let token_id = made.info.id.clone();
        std::fs::write(tmp.path().join("passphrase"), format!("{PASSPHRASE}\n"))?;
        let url = format!("http://localhost:{}", server.origin.port().context("port")?);
        let mut w =
            Self { server, admin, admin_device: Some(admin_device), tmp, url, phones: Vec::new(), token_id };

        let out = w.bv(&["org", "init"]).await?;
        ensure!(out.status.success(), "org init: {:?}", text(&out));
        let out = w.bv(&["org", "push"]).await?;
        ensure!(out.status.success(), "org push: {:?}", text(&out));
        for n in names {
            w.enrol(n).await?;
        }
        Ok(w)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// The `blindvault` binary with the admin's environment.
    fn command(&self, args: &[&str]) -> Command {
        self.command_under(&[], args)
    }

    /// [`World::command`], run by `wrapper` (a program and its arguments, before the binary's).
    fn command_under(&self, wrapper: &[&str], args: &[&str]) -> Command {
        // The server's test clock stands still; keep it level with the real one the CLI signs
        // its requests with.
        let real = i64::try_from(blindvault_client::unix_now()).unwrap_or(0);
        let server_now = self.server.state.clock.now();
        if real > server_now {
            self.server.clock.advance(real - server_now);
        }
        let bin = env!("CARGO_BIN_EXE_blindvault");
        let mut c = match wrapper.split_first() {
            Some((program, before)) => {
                let mut c = Command::new(program);
                c.args(before).arg(bin);
                c
            }
            None => Command::new(bin),
        };
        c.args(args)
            .env("HOME", self.tmp.path())
            .env("BLINDVAULT_SERVER", &self.url)
            .env("BLINDVAULT_HOME", self.path("org"))
            .env("BLINDVAULT_TOKEN_FILE", self.path("token"))
            .env("BLINDVAULT_PASSPHRASE_FILE", self.path("passphrase"))
            .env("BLINDVAULT_TEST_SCRYPT_LOG_N", "4")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    /// Runs the binary to completion (off the async runtime's threads).
    async fn bv(&self, args: &[&str]) -> anyhow::Result<Output> {
        self.bv_stdin(args, None).await
    }

    async fn bv_stdin(&self, args: &[&str], stdin: Option<&[u8]>) -> anyhow::Result<Output> {
        let mut c = self.command(args);
        if stdin.is_some() {
            c.stdin(Stdio::piped());
        }
        let input = stdin.map(<[u8]>::to_vec);
        tokio::task::spawn_blocking(move || {
            let mut child = c.spawn()?;
            if let Some(input) = input {
                use std::io::Write;
                let mut s = child.stdin.take().context("stdin")?;
                s.write_all(&input)?;
            }
            Ok::<_, anyhow::Error>(child.wait_with_output()?)
        })
        .await?
    }

    /// Spawns the binary and waits for it in the background.
    /// Runs a command that asks for a step-up: waits for the confirm link it prints, checks
    /// with `before` that nothing was done yet, confirms the step-up in the admin's browser
    /// session with the admin's passkey, and returns the command's output (stderr included).
    async fn bv_confirmed(
        &mut self,
        args: &[&str],
        before: impl AsyncFnOnce(&Self) -> anyhow::Result<()>,
    ) -> anyhow::Result<Output> {
        let (child, id, stderr) = self.spawn_until_link(args).await?;
        before(&*self).await?;
        self.admin_confirms(&id).await?;
        Self::wait_with_stderr(child, stderr).await
    }

    /// The admin confirms step-up `id` with their passkey, in their web-app session (or, once
    /// [`World::enrol_admin`] made their device an approver phone, in that phone's session).
    async fn admin_confirms(&mut self, id: &str) -> anyhow::Result<()> {
        match self.admin_device.as_mut() {
            Some(device) => device.confirm_step_up(&self.server, &mut self.admin.agent, id).await?.ok()?,
            None => {
                let p = self.phones.iter_mut().find(|p| p.name == "admin").context("the admin's phone")?;
                p.device.confirm_step_up(&self.server, &mut p.session.agent, id).await?.ok()?
            }
        };
        Ok(())
    }

    /// Spawns a command and waits (60 s at most) for the step-up link on its stderr; returns the
    /// child, the step-up id and the reader that collects the rest of stderr.
    async fn spawn_until_link(
        &self,
        args: &[&str],
    ) -> anyhow::Result<(std::process::Child, String, tokio::task::JoinHandle<anyhow::Result<String>>)> {
        let (mut child, seen, reader) = self.spawn_watching(args, "/#/confirm/")?;
        let id = tokio::task::spawn_blocking(move || seen.recv_timeout(Duration::from_secs(60))).await?;
        let id = match id {
            Ok(id) => id,
            Err(_) => {
                let _ = child.kill();
                let text = reader.await??;
                bail!("no confirm link on stderr: {text}");
            }
        };
        Ok((child, id, reader))
    }

    /// Spawns a command whose stderr is read as it comes: the receiver gets what follows `marker`
    /// on each line that has it; the reader returns all of stderr once the command ends.
    #[allow(clippy::type_complexity)]
    fn spawn_watching(
        &self,
        args: &[&str],
        marker: &'static str,
    ) -> anyhow::Result<(
        std::process::Child,
        std::sync::mpsc::Receiver<String>,
        tokio::task::JoinHandle<anyhow::Result<String>>,
    )> {
        let mut child = self.command(args).spawn()?;
        let stderr = child.stderr.take().context("stderr")?;
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let reader = tokio::task::spawn_blocking(move || {
            use std::io::BufRead;
            let mut all = String::new();
            for line in std::io::BufReader::new(stderr).lines() {
                let line = line?;
                if let Some(i) = line.find(marker) {
                    let _ = tx.send(line[i + marker.len()..].trim().to_owned());
                }
                all.push_str(&line);
                all.push('\n');
            }
            Ok(all)
        });
        Ok((child, rx, reader))
    }

    async fn wait_with_stderr(
        child: std::process::Child,
        stderr: tokio::task::JoinHandle<anyhow::Result<String>>,
    ) -> anyhow::Result<Output> {
        let mut out = tokio::task::spawn_blocking(move || child.wait_with_output()).await??;
        out.stderr = stderr.await??.into_bytes();
        Ok(out)
    }

    fn spawn(&self, args: &[&str]) -> anyhow::Result<tokio::task::JoinHandle<anyhow::Result<Output>>> {
        let child = self.command(args).spawn()?;
        Ok(tokio::task::spawn_blocking(move || Ok(child.wait_with_output()?)))
    }

    fn org_pub(&self) -> anyhow::Result<OrgPublicKey> {
        let text = std::fs::read_to_string(self.path("org").join("org.pub"))?;
        Ok(OrgPublicKey::from_bytes(&blindvault_core::encoding::b64::decode(text.trim())?)?)
    }

    /// A person registers on a phone and asks to enrol; the admin approves with the CLI after
    /// comparing fingerprints.
    async fn enrol(&mut self, name: &str) -> anyhow::Result<()> {
        let mut device = Device::new();
        let session = device.register(&self.server, name).await?;
        self.enrol_device(name, device, session).await
    }

    /// The admin (who holds the org key and issues hosts) enrols their own passkey as an
    /// approver phone; returns its index in `phones`.
    async fn enrol_admin(&mut self) -> anyhow::Result<usize> {
        let mut device = self.admin_device.take().context("the admin's device is already enrolled")?;
        let session = device.login(&self.server).await?;
        self.enrol_device("admin", device, session).await?;
        Ok(self.phones.len() - 1)
    }

    async fn enrol_device(
        &mut self,
        name: &str,
        device: Device,
        mut session: SignedIn,
    ) -> anyhow::Result<()> {
        let keys = KeySchedule::derive(&session.prf);
        let resp = session
            .agent
            .post(
                paths::BROKER_ENROLMENTS,
                json!({ "credential_id": session.credential_id, "approver_public_key": b64(&keys.approver_public().to_array()) }),
            )
            .await?
            .ok()?;
        let id = resp.json::<EnrolmentView>()?.id;
        let device_fp = keys.approver_public().fingerprint().to_string();
        // The list shows the same fingerprint the phone shows.
        let out = self.bv(&["approver", "list", "--format", "json"]).await?;
        ensure!(out.status.success(), "approver list: {:?}", text(&out));
        let rows: Value = serde_json::from_slice(&out.stdout)?;
        let row =
            rows.as_array().context("rows")?.iter().find(|r| r["id"] == id.as_str()).context("listed")?;
        ensure!(row["status"] == "pending" && row["fingerprint"] == device_fp.as_str(), "{row}");
        // Without --yes and without a terminal, nothing is signed.
        let out = self.bv(&["approver", "approve", &id]).await?;
        ensure!(!out.status.success(), "approve without confirmation must fail");
        ensure!(text(&out).1.contains("--yes"), "{:?}", text(&out));
        let out = self.bv(&["approver", "approve", &id, "--yes"]).await?;
        let (stdout, stderr) = text(&out);
        ensure!(out.status.success(), "approver approve: {stdout} {stderr}");
        ensure!(stdout.contains(&device_fp), "approve shows the fingerprint: {stdout}");
        let pinned_org = self.org_pub()?;
        self.phones.push(Phone { name: name.into(), device, session, pinned_org });
        Ok(())
    }

    /// `secret put` with the value on stdin; returns the entry id.
    async fn put(&self, policy: &[&str], label: &str, value: &[u8]) -> anyhow::Result<String> {
        let mut args = vec!["secret", "put", "--label", label];
        args.extend_from_slice(policy);
        let out = self.bv_stdin(&args, Some(value)).await?;
        let (stdout, stderr) = text(&out);
        ensure!(out.status.success(), "secret put: {stdout} {stderr}");
        let id = stdout.trim().to_owned();
        ensure!(id.len() == 22, "entry id: {id:?}");
        Ok(id)
    }

    /// `host issue` for `entries`; returns the key file's path.
    async fn host(&self, file: &str, entries: &[&str]) -> anyhow::Result<PathBuf> {
        self.host_with(file, entries, &[]).await
    }

    /// `host issue` for `entries` with `extra` arguments.
    async fn host_with(&self, file: &str, entries: &[&str], extra: &[&str]) -> anyhow::Result<PathBuf> {
        let out_path = self.path(file);
        let out_s = out_path.to_string_lossy().into_owned();
        let mut args = vec!["host", "issue", "--name", "ci-runner-7", "--expires", "1d", "--out", &out_s];
        for e in entries {
            args.extend_from_slice(&["--entry", e]);
        }
        args.extend_from_slice(extra);
        let out = self.bv(&args).await?;
        ensure!(out.status.success(), "host issue: {:?}", text(&out));
        Ok(out_path)
    }

    /// The phone waits for a request in its inbox and returns its id.
    async fn next_request(&mut self, i: usize) -> anyhow::Result<String> {
        for _ in 0..300 {
            let inbox = self.phones[i].session.agent.get(paths::BROKER_INBOX).await?.ok()?;
            if let Some(r) = inbox.body.as_array().and_then(|a| a.first()) {
                return Ok(r["request_id"].as_str().context("request id")?.to_owned());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("no request reached {}'s inbox", self.phones[i].name)
    }

    /// The phone's side of an approval: verify from the pinned org key, passkey ceremony with
    /// PRF, open the envelope, re-seal to the consumer's ephemeral key.
    /// The request ids of entries `a` and `b`, once both are in phone `i`'s inbox (polled, at
    /// most 30 s: the requests are made by a process this test does not step).
    async fn two_requests(&mut self, i: usize, a: &str, b: &str) -> anyhow::Result<(String, String)> {
        let mut pending = Vec::new();
        for _ in 0..300 {
            let inbox = self.phones[i].session.agent.get(paths::BROKER_INBOX).await?.ok()?;
            pending = inbox.body.as_array().cloned().unwrap_or_default();
            if pending.len() == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        ensure!(pending.len() == 2, "both requests are created up front: {pending:?}");
        let id_of = |entry: &str| {
            pending
                .iter()
                .find(|r| r["entry_id"] == entry)
                .and_then(|r| r["request_id"].as_str())
                .map(str::to_owned)
        };
        Ok((id_of(a).context("first request")?, id_of(b).context("second request")?))
    }

    async fn approves(&mut self, i: usize, request_id: &str, label: &str) -> anyhow::Result<Value> {
        self.approves_as(i, request_id, label, None).await
    }

    /// Approves through the real ceremony; `forge`, if given, makes the response the phone sends
    /// instead of the honest one (a dishonest approver device, with its own genuine key).
    async fn approves_as(
        &mut self,
        i: usize,
        request_id: &str,
        label: &str,
        forge: Option<&Forge>,
    ) -> anyhow::Result<Value> {
        // The phone's own clock.
        let t = blindvault_client::unix_now();
        let origin = self.server.origin.clone();
        let a = &mut self.phones[i];
        let view = a
            .session
            .agent
            .get(&paths::with_id(paths::BROKER_REQUEST, request_id))
            .await?
            .ok()?
            .json::<RequestView>()?;
        let cert = SignedHostCertificate::from_bytes(&b64_decode(&view.certificate)?)?;
        let req = SignedRequest::from_bytes(&b64_decode(&view.signed_request)?)?;
        let verified = verify_request(&a.pinned_org, &cert, &req, t)?;
        ensure!(verified.host_name() == "ci-runner-7");
        let entry = SealedEntry::from_bytes(&b64_decode(
            view.sealed_entry.as_deref().context("the approver sees the sealed entry")?,
        )?)?;
        let start = a
            .session
            .agent
            .post(&paths::with_id(paths::BROKER_REQUEST_APPROVE_START, request_id), json!({}))
            .await?
            .ok()?
            .json::<CeremonyStart>()?;
        let (credential, prf) = a.device.get(&origin, &start.options).await?;
        let keys = KeySchedule::derive(&prf.context("PRF output")?);
        let opened = entry.open_envelope(keys.approver_secret())?;
        ensure!(entry.decrypt_label(&opened.label_key)?.expose() == label.as_bytes(), "label shown");
        let sealed = match forge {
            Some(f) => f(keys.approver_secret(), &req, &entry)?,
            None => approve(keys.approver_secret(), &verified, &entry, &mut blindvault_client::os_rng())?,
        };
        let r = a
            .session
            .agent
            .post(
                &paths::with_id(paths::BROKER_REQUEST_APPROVE_FINISH, request_id),
                json!({ "ceremony_id": start.ceremony_id, "credential": credential, "sealed_response": b64(&sealed.to_bytes()) }),
            )
            .await?
            .ok()?;
        Ok(r.body)
    }
}

fn code(o: &Output) -> Option<i32> {
    o.status.code()
}

/// The anchor line of `audit verify`'s output.
fn anchor_of(out: &Output) -> anyhow::Result<String> {
    text(out)
        .0
        .lines()
        .find_map(|l| l.strip_prefix("anchor: "))
        .map(str::to_owned)
        .context("no anchor printed")
}

/// `blindvault backup` while secrets are being written, `restore` into a fresh data directory,
/// and a server started on it at the same address: the copy holds every write acknowledged
/// before the backup began and nothing half-written, the audit chain verifies against an anchor
/// taken before, and the stored secret is released to a host. On PostgreSQL `backup` names
/// `pg_dump` instead.
async fn backup_while_secrets_are_written_restores_and_releases(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &["alice"]).await?;
    let url = w.server.db.url.clone();
    let out_file = w.path("backup.db");
    let out_arg = out_file.display().to_string();
    if b == Backend::Postgres {
        let out = w.bv(&["backup", "--database-url", &url, "--out", &out_arg]).await?;
        ensure!(code(&out) == Some(1) && text(&out).1.contains("pg_dump"), "{:?}", text(&out));
        return Ok(());
    }
    let id = w.put(&["--policy", "any-of"], "database", b"hunter2\n").await?;
    let key = w.host("host.key", &[&id]).await?;
    let key_s = key.to_string_lossy().into_owned();
    let before = w.bv(&["audit", "verify", "--database-url", &url]).await?;
    ensure!(before.status.success(), "{:?}", text(&before));
    let anchor = anchor_of(&before)?;

    // Secrets written while the backup runs.
    let writes = async {
        let mut ids = Vec::new();
        for i in 0..4 {
            ids.push(w.put(&["--policy", "any-of"], &format!("during {i}"), b"x").await?);
        }
        anyhow::Ok(ids)
    };
    let backup_args = ["backup", "--database-url", &url, "--out", &out_arg];
    let (backup, during) = tokio::join!(w.bv(&backup_args), writes);
    let (backup, during) = (backup?, during?);
    let (stdout, stderr) = text(&backup);
    ensure!(backup.status.success() && stdout.contains("integrity ok, audit chain OK"), "{stdout} {stderr}");
    ensure!(std::fs::metadata(&out_file)?.permissions().mode() & 0o777 == 0o600, "the backup is private");
    // A backup never overwrites.
    let again = w.bv(&["backup", "--database-url", &url, "--out", &out_arg]).await?;
    ensure!(code(&again) == Some(1) && text(&again).1.contains("never overwrites"), "{:?}", text(&again));

    // A file made to look like a backup, with a trigger the server would run once restored
    // (a thief with the backup storage): refused, and nothing is left in the directory.
    let forged = w.path("forged.db");
    std::fs::copy(&out_file, &forged)?;
    {
        let store =
            blindvault_server::store::Store::connect(&format!("sqlite://{}", forged.display()), 1).await?;
        sqlx::query("CREATE TRIGGER evil AFTER INSERT ON sessions BEGIN DELETE FROM audit_log; END")
            .execute(store.pool())
            .await?;
        store.close().await;
    }
    let forged_dir = tempfile::tempdir()?;
    let forged_arg = forged_dir.path().join("data").display().to_string();
    let out = w.bv(&["restore", "--from", &forged.display().to_string(), "--data-dir", &forged_arg]).await?;
    ensure!(
        code(&out) == Some(1) && text(&out).1.contains("not a blindvault backup: it holds trigger evil"),
        "{:?}",
        text(&out)
    );
    ensure!(std::fs::read_dir(&forged_arg)?.next().is_none(), "nothing left behind");
    ensure!(
        std::fs::metadata(&forged_arg)?.permissions().mode() & 0o777 == 0o700,
        "a private data directory"
    );

    // Restored into a fresh directory; not over a database.
    let restored = tempfile::tempdir()?;
    let dir_arg = restored.path().display().to_string();
    let out = w.bv(&["restore", "--from", &out_arg, "--data-dir", &dir_arg]).await?;
    ensure!(out.status.success(), "{:?}", text(&out));
    let over = w.bv(&["restore", "--from", &out_arg, "--data-dir", &dir_arg]).await?;
    ensure!(
        code(&over) == Some(1) && text(&over).1.contains("restore only into a data directory"),
        "{:?}",
        text(&over)
    );
    let verified = w.bv(&["audit", "verify", "--data-dir", &dir_arg, "--anchor", &anchor]).await?;
    ensure!(
        verified.status.success() && text(&verified).0.contains("matches its anchor"),
        "{:?}",
        text(&verified)
    );

    // A server on the restored database, where the old one was.
    let db = blindvault_testkit::TestDb {
        url: format!("sqlite://{}?mode=rwc", restored.path().join("blindvault.db").display()),
        dir: restored,
    };
    w.server.restart_on(db).await?;
    let out = w.bv(&["secret", "list", "--format", "json"]).await?;
    ensure!(out.status.success(), "secret list: {:?}", text(&out));
    let list: Value = serde_json::from_slice(&out.stdout)?;
    let rows = list.as_array().context("a list")?;
    // Every entry opens (its label decrypts): nothing half-written; each is one acknowledged.
    ensure!(rows.iter().any(|r| r["entry_id"] == id.as_str() && r["label"] == "database"), "{list}");
    for r in rows {
        let eid = r["entry_id"].as_str().unwrap_or_default();
        ensure!(eid == id || during.iter().any(|d| d == eid), "an entry nobody acknowledged: {r}");
        ensure!(r["label"].as_str().is_some_and(|l| l == "database" || l.starts_with("during ")), "{r}");
    }
    let env = format!("DB={id}");
    let job = w.spawn(&[
        "run",
        "--host-key",
        &key_s,
        "--env",
        &env,
        "--",
        "sh",
        "-c",
        r#"test "$DB" = hunter2 && exit 7"#,
    ])?;
    let rid = w.next_request(0).await?;
    w.approves(0, &rid, "database").await?;
    let out = tokio::time::timeout(Duration::from_secs(60), job).await???;
    ensure!(code(&out) == Some(7), "released from the restored database: {:?}", text(&out));
    Ok(())
}

async fn run_gets_the_secret_after_a_phone_approves(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &["alice", "bob"]).await?;
    let id = w.put(&["--policy", "any-of"], "database", b"hunter2\n").await?;
    // The admin reads the label with the org key; the server never could.
    let out = w.bv(&["secret", "list", "--format", "json"]).await?;
    ensure!(out.status.success(), "secret list: {:?}", text(&out));
    let list: Value = serde_json::from_slice(&out.stdout)?;
    ensure!(list[0]["entry_id"] == id.as_str() && list[0]["label"] == "database", "{list}");
    ensure!(list[0]["policy"] == "any-of 2", "{list}");
    let key = w.host("host.key", &[&id]).await?;
    ensure!(std::fs::metadata(&key)?.permissions().mode() & 0o777 == 0o600, "host key file is 0600");
    let key_s = key.to_string_lossy().into_owned();

    let env = format!("DB={id}");
    let job = w.spawn(&[
        "run",
        "--host-key",
        &key_s,
        "--env",
        &env,
        "--",
        "sh",
        "-c",
        r#"test "$DB" = hunter2 && exit 7"#,
    ])?;
    let rid = w.next_request(1).await?;
    let r = w.approves(1, &rid, "database").await?;
    ensure!(r["status"] == "approved", "{r}");
    let out = tokio::time::timeout(Duration::from_secs(60), job).await???;
    let (stdout, stderr) = text(&out);
    ensure!(code(&out) == Some(7), "exit {:?}: {stdout} {stderr}", code(&out));
    ensure!(stderr.contains("waiting for approval by alice or bob (0/1)"), "{stderr}");
    ensure!(!stderr.contains("hunter2") && !stdout.contains("hunter2"), "the secret is never printed");

    // The child's own exit code passes through, also when the secret does not match; and the
    // child sees none of blindvault's settings — above all not where the host key is (given here
    // in BLINDVAULT_HOST_KEY), nor the server, session or passphrase files the CLI was given.
    let mut run = w.command(&[
        "run",
        "--env",
        &env,
        "--",
        "sh",
        "-c",
        r#"env | grep -q '^BLINDVAULT_' && exit 9; test "$DB" = wrong"#,
    ]);
    run.env("BLINDVAULT_HOST_KEY", &key_s);
    let child = run.spawn()?;
    let job = tokio::task::spawn_blocking(move || anyhow::Ok(child.wait_with_output()?));
    let rid = w.next_request(0).await?;
    w.approves(0, &rid, "database").await?;
    let out = tokio::time::timeout(Duration::from_secs(60), job).await???;
    ensure!(code(&out) == Some(1), "{:?}", text(&out));

    // An argument that is not UTF-8 cannot be shown to the approver as it is: refused before
    // anything is asked (no request is made, so this does not reach the server).
    let mut c = w.command(&["run", "--host-key", &key_s, "--env", &env, "--", "echo"]);
    c.arg(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b"\xffname"));
    let out = c.output()?;
    let (_, stderr) = text(&out);
    ensure!(code(&out) == Some(1) && stderr.contains("not UTF-8"), "{stderr}");

    // Rotation: a new value, the label kept; the next run sees it.
    let out = w.bv_stdin(&["secret", "rotate", &id], Some(b"hunter3")).await?;
    ensure!(out.status.success(), "rotate: {:?}", text(&out));
    let job = w.spawn(&[
        "run",
        "--host-key",
        &key_s,
        "--env",
        &env,
        "--",
        "sh",
        "-c",
        // … and the run process, whose memory held it, dumps no core (its soft limit is 0).
        r#"test "$DB" = hunter3 && grep -Eq '^Max core file size +0 ' /proc/$PPID/limits && exit 9"#,
    ])?;
    let rid = w.next_request(0).await?;
    w.approves(0, &rid, "database").await?;
    let out = tokio::time::timeout(Duration::from_secs(60), job).await???;
    ensure!(code(&out) == Some(9), "{:?}", text(&out));
    Ok(())
}

/// A server that goes away while `run` waits (a restart, a deploy, a failover behind the load
/// balancer) does not end the run: it says it cannot reach the server and tries again, less
/// often, and once the server is back the approval reaches it as usual.
async fn run_keeps_waiting_while_the_server_restarts(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &["alice"]).await?;
    let id = w.put(&["--policy", "any-of"], "database", b"hunter2\n").await?;
    let key = w.host("host.key", &[&id]).await?;
    let env = format!("DB={id}");
    let args = [
        "run",
        "--host-key",
        &key.to_string_lossy(),
        "--env",
        &env,
        "--",
        "sh",
        "-c",
        r#"test "$DB" = hunter2"#,
    ];
    let (mut child, rx, reader) = w.spawn_watching(&args, "trying again")?;
    let rid = w.next_request(0).await?;
    // The server goes away: its address refuses connections.
    w.server.stop_serving().await?;
    let retried = tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(60))).await?;
    if retried.is_err() {
        let _ = child.kill();
        bail!("run did not say it would try again: {}", reader.await??);
    }
    // Back on the same address and database (the old data directory handed over).
    let dir = std::mem::replace(&mut w.server.db.dir, tempfile::tempdir()?);
    let url = w.server.db.url.clone();
    w.server.restart_on(blindvault_testkit::TestDb { url, dir }).await?;
    let real = i64::try_from(blindvault_client::unix_now())?;
    w.server.clock.advance(real - w.server.state.clock.now());
    let r = w.approves(0, &rid, "database").await?;
    ensure!(r["status"] == "approved", "{r}");
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::task::spawn_blocking(move || child.wait_with_output()),
    )
    .await???;
    let stderr = reader.await??;
    ensure!(out.status.success(), "exit {:?}: {stderr}", out.status);
    ensure!(stderr.contains("cannot reach the server") && stderr.contains("trying again in 1 s"), "{stderr}");
    Ok(())
}

/// `run --env A=… --env B=…` asks for both at once and polls both together: approving the second
/// request first releases it, and the command starts once the first is approved too.
async fn two_secrets_in_one_run_approved_out_of_order(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &["alice"]).await?;
    let db = w.put(&["--policy", "any-of"], "database", b"hunter2").await?;
    let api = w.put(&["--policy", "any-of"], "api token", b"tok-42").await?;
    let key = w.host("host.key", &[&db, &api]).await?;
    let (env_db, env_api) = (format!("DB={db}"), format!("API={api}"));
    let job = w.spawn(&[
        "run",
        "--host-key",
        &key.to_string_lossy(),
        "--env",
        &env_db,
        "--env",
        &env_api,
        "--",
        "sh",
        "-c",
        r#"test "$DB" = hunter2 && test "$API" = tok-42 && exit 5"#,
    ])?;
    // Both requests are in the inbox before anyone approves.
    let (rid_db, rid_api) = w.two_requests(0, &db, &api).await?;
    w.approves(0, &rid_api, "api token").await?;
    w.approves(0, &rid_db, "database").await?;
    let out = tokio::time::timeout(Duration::from_secs(60), job).await???;
    ensure!(code(&out) == Some(5), "{:?}", text(&out));

    // One of the two denied: the run ends (exit 3) and withdraws the other request, which
    // leaves the approver's list.
    let job = w.spawn(&[
        "run",
        "--host-key",
        &key.to_string_lossy(),
        "--env",
        &env_db,
        "--env",
        &env_api,
        "--",
        "true",
    ])?;
    let (rid_db, rid_api) = w.two_requests(0, &db, &api).await?;
    w.phones[0]
        .session
        .agent
        .post(&paths::with_id(paths::BROKER_REQUEST_DENY, &rid_db), json!({}))
        .await?
        .ok()?;
    let out = tokio::time::timeout(Duration::from_secs(60), job).await???;
    ensure!(code(&out) == Some(3), "{:?}", text(&out));
    let status: String = sqlx::query("SELECT status FROM broker_requests WHERE request_id = $1")
        .bind(&rid_api)
        .fetch_one(w.server.state.store.pool())
        .await?
        .try_get("status")?;
    ensure!(status == "cancelled", "the other request is {status}");
    Ok(())
}

async fn two_of_three_and_inject(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &["a", "b", "c"]).await?;
    let id = w.put(&["--m-of-n", "2"], "api token", b"s3cr3t").await?;
    let key = w.host("host.key", &[&id]).await?;
    let key_s = key.to_string_lossy().into_owned();
    let template = w.path("app.conf.tmpl");
    std::fs::write(&template, format!("token = \"{{{{ blindvault \"{id}\" }}}}\"\n"))?;
    let out_file = w.path("app.conf");
    let job = w.spawn(&[
        "inject",
        "--host-key",
        &key_s,
        "--template",
        &template.to_string_lossy(),
        "--out",
        &out_file.to_string_lossy(),
    ])?;
    let rid = w.next_request(0).await?;
    let r = w.approves(0, &rid, "api token").await?;
    ensure!(r["status"] == "pending", "one of two releases nothing: {r}");
    let r = w.approves(2, &rid, "api token").await?;
    ensure!(r["status"] == "approved", "{r}");
    let out = tokio::time::timeout(Duration::from_secs(60), job).await???;
    let (stdout, stderr) = text(&out);
    ensure!(out.status.success(), "inject: {stdout} {stderr}");
    ensure!(stderr.contains("waiting for approval by 2 of a, b, c (0/2)"), "{stderr}");
    ensure!(std::fs::read_to_string(&out_file)? == "token = \"s3cr3t\"\n");
    ensure!(std::fs::metadata(&out_file)?.permissions().mode() & 0o777 == 0o600, "output is 0600");
    Ok(())
}

async fn denial_exits_3_with_the_deniers_name(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &["alice"]).await?;
    let id = w.put(&["--policy", "any-of"], "database", b"hunter2").await?;
    let key = w.host("host.key", &[&id]).await?;
    let env = format!("DB={id}");
    // `run`, denied from the phone: exit 3, and what it printed.
    let denied_run = async |w: &mut World| -> anyhow::Result<String> {
        let job = w.spawn(&[
            "run",
            "--host-key",
            &key.to_string_lossy(),
            "--env",
            &env,
            "--",
            "sh",
            "-c",
            "exit 0",
        ])?;
        let rid = w.next_request(0).await?;
        w.phones[0]
            .session
            .agent
            .post(&paths::with_id(paths::BROKER_REQUEST_DENY, &rid), json!({}))
            .await?
            .ok()?;
        let out = tokio::time::timeout(Duration::from_secs(60), job).await???;
        let (_, stderr) = text(&out);
        ensure!(code(&out) == Some(3), "exit {:?}: {stderr}", code(&out));
        Ok(stderr)
    };
    let stderr = denied_run(&mut w).await?;
    ensure!(stderr.contains("denied by alice"), "{stderr}");

    // A server that puts terminal escapes (or a right-to-left override) in a name it relays:
    // the CLI prints them inert.
    sqlx::query("UPDATE users SET name = $1 WHERE name = 'alice'")
        .bind("al\u{1b}[2J\u{202E}ice")
        .execute(w.server.state.store.pool())
        .await?;
    let stderr = denied_run(&mut w).await?;
    ensure!(stderr.contains("denied by al?[2J?ice"), "{stderr:?}");
    ensure!(!stderr.contains('\u{1b}') && !stderr.contains('\u{202E}'), "{stderr:?}");
    sqlx::query("UPDATE users SET name = 'alice' WHERE name = $1")
        .bind("al\u{1b}[2J\u{202E}ice")
        .execute(w.server.state.store.pool())
        .await?;

    // Expiry: nobody decides within the window.
    let job = w.spawn(&[
        "run",
        "--host-key",
        &key.to_string_lossy(),
        "--env",
        &env,
        "--lease",
        "2s",
        "--",
        "true",
    ])?;
    let out = tokio::time::timeout(Duration::from_secs(60), job).await???;
    let (_, stderr) = text(&out);
    ensure!(code(&out) == Some(4), "exit {:?}: {stderr}", code(&out));
    ensure!(stderr.contains("expired"), "{stderr}");

    // The lease ends the command: SIGTERM at the deadline, 128 + 15 reported.
    let job = w.spawn(&[
        "run",
        "--host-key",
        &key.to_string_lossy(),
        "--env",
        &env,
        "--wait",
        "5m",
        "--lease",
        "4s",
        "--grace",
        "2s",
        "--",
        "sleep",
        "30",
    ])?;
    let rid = w.next_request(0).await?;
    w.approves(0, &rid, "database").await?;
    let out = tokio::time::timeout(Duration::from_secs(60), job).await???;
    let (_, stderr) = text(&out);
    ensure!(code(&out) == Some(143), "exit {:?}: {stderr}", code(&out));
    ensure!(stderr.contains("the lease has ended"), "{stderr}");
    Ok(())
}

/// A compromised server answers a pending request itself: it writes an approval and a response
/// into its database in the name of the real approver, sealed to the request's (public)
/// ephemeral key, or in the name of a device of its own. `run` refuses both, and the command
/// never starts. A host key file from before the org key was in it is refused with what to do.
async fn a_release_the_server_forged_is_refused(b: Backend) -> anyhow::Result<()> {
    use blindvault_core::keys::ApproverPublicKey;
    let mut w = World::new(b, &["alice"]).await?;
    let id = w.put(&["--policy", "any-of"], "database", b"hunter2").await?;
    let key = w.host("host.key", &[&id]).await?;
    let env = format!("DB={id}");
    let marker = w.path("ran");
    let script = format!("echo \"$DB\" > {}", marker.display());
    let pool = w.server.state.store.pool().clone();
    let row = sqlx::query("SELECT user_id, credential_id, approver_key FROM broker_enrolments")
        .fetch_one(&pool)
        .await?;
    let (user, cred, alice_key): (String, String, String) =
        (row.try_get("user_id")?, row.try_get("credential_id")?, row.try_get("approver_key")?);
    let alice = ApproverPublicKey::from_bytes(&unb64(&json!(alice_key)))?;
    let servers_own = KeySchedule::derive(&blindvault_core::schedule::PrfOutput::from_bytes([9; 32]));
    for (named, refusal) in [
        (alice, "was not sealed by that device"),
        (servers_own.approver_public(), "which the organisation's key did not vouch for"),
    ] {
        let job = w.spawn(&[
            "run",
            "--host-key",
            &key.to_string_lossy(),
            "--env",
            &env,
            "--",
            "sh",
            "-c",
            &script,
        ])?;
        let rid = w.next_request(0).await?;
        let signed: String = sqlx::query("SELECT signed FROM broker_requests WHERE request_id = $1")
            .bind(&rid)
            .fetch_one(&pool)
            .await?
            .try_get("signed")?;
        let request = SignedRequest::from_bytes(&unb64(&json!(signed)))?;
        let forged = blindvault_testkit::broker::forged_release(&request, &named, 1, b"postgres://attacker")?;
        let now = w.server.state.clock.now();
        sqlx::query("INSERT INTO broker_approvals (request_id, user_id, credential_id, approver_key, decision, at) VALUES ($1, $2, $3, $4, 'approve', $5)")
            .bind(&rid).bind(&user).bind(&cred).bind(b64(&named.to_array())).bind(now).execute(&pool).await?;
        sqlx::query("INSERT INTO broker_responses (request_id, user_id, sealed) VALUES ($1, $2, $3)")
            .bind(&rid)
            .bind(&user)
            .bind(b64(&forged.to_bytes()))
            .execute(&pool)
            .await?;
        sqlx::query("UPDATE broker_requests SET status = 'approved', approvals = 1, non_issuer_approvals = 1 WHERE request_id = $1")
            .bind(&rid)
            .execute(&pool)
            .await?;
        let out = tokio::time::timeout(Duration::from_secs(60), job).await???;
        let (stdout, stderr) = text(&out);
        ensure!(!out.status.success(), "a forged release was accepted: {stdout} {stderr}");
        ensure!(stderr.contains(refusal), "{named:?}: {stderr}");
        ensure!(!marker.exists(), "the command ran with a value the server chose");
        ensure!(!stderr.contains("attacker") && !stdout.contains("attacker"), "{stderr}");
    }

    // A version-1 host key file (no org key): refused, saying what to do.
    let mut file: Value = serde_json::from_slice(&std::fs::read(&key)?)?;
    file["version"] = json!(1);
    file.as_object_mut().context("host key file")?.remove("org_public_key");
    let old = w.path("old-host.key");
    std::fs::write(&old, serde_json::to_vec(&file)?)?;
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o600))?;
    let out = w.bv(&["run", "--host-key", &old.to_string_lossy(), "--env", &env, "--", "true"]).await?;
    let (_, stderr) = text(&out);
    ensure!(code(&out) == Some(1), "exit {:?}: {stderr}", code(&out));
    ensure!(stderr.contains("blindvault host issue"), "{stderr}");
    Ok(())
}

/// One genuine approver, with their own device key, answers with a release of their own making:
/// protocol v1's any-of form carrying a value they chose, or an any-of claim carrying a key they
/// chose — on an m-of-n entry beside an honest second approval, and on an any-of entry. The
/// server relays it as it relays any approval. `run` refuses every one and the command never
/// starts; nothing of the chosen value reaches it.
async fn a_colluding_approver_cannot_choose_the_value(b: Backend) -> anyhow::Result<()> {
    use blindvault_core::policy::Policy;
    use blindvault_testkit::broker::{any_of_payload, sealed_by_approver};
    // The entry's own policy if it is any-of; an any-of claim (of its n) for an m-of-n entry.
    fn any_of(e: &SealedEntry) -> Policy {
        match e.policy {
            p @ Policy::AnyOf { .. } => p,
            Policy::MOfN { n, .. } => Policy::AnyOf { n },
        }
    }
    let mut w = World::new(b, &["mallory", "bob"]).await?;
    let v1: &Forge = &|k, req, e| {
        let payload =
            any_of_payload(req, &k.public_key(), e.version, any_of(e), Some(b"postgres://attacker"))?;
        sealed_by_approver(k, req, &payload)
    };
    let dek: &Forge = &|k, req, e| {
        let payload = any_of_payload(req, &k.public_key(), e.version, any_of(e), None)?;
        sealed_by_approver(k, req, &payload)
    };
    let cases: [(&[&str], &Forge, bool, &str); 4] = [
        (&["--m-of-n", "2"], v1, true, "was not sealed by that device"),
        (&["--m-of-n", "2"], dek, true, "does not match the organisation's entry"),
        (&["--policy", "any-of"], v1, false, "was not sealed by that device"),
        (&["--policy", "any-of"], dek, false, "does not open the organisation's entry"),
    ];
    for (n, (policy, forge, with_bob, refusal)) in cases.into_iter().enumerate() {
        let label = format!("database {n}");
        let id = w.put(policy, &label, b"the org's value").await?;
        let key = w.host(&format!("host-{n}.key"), &[&id]).await?;
        let marker = w.path(&format!("ran-{n}"));
        let script = format!("echo \"$DB\" > {}", marker.display());
        let env = format!("DB={id}");
        let job = w.spawn(&[
            "run",
            "--host-key",
            &key.to_string_lossy(),
            "--env",
            &env,
            "--",
            "sh",
            "-c",
            &script,
        ])?;
        let rid = w.next_request(0).await?;
        w.approves_as(0, &rid, &label, Some(forge)).await?;
        if with_bob {
            let r = w.approves(1, &rid, &label).await?;
            ensure!(r["status"] == "approved", "{r}");
        }
        let out = tokio::time::timeout(Duration::from_secs(60), job).await???;
        let (stdout, stderr) = text(&out);
        ensure!(
            !out.status.success(),
            "case {n}: a release of the approver's making was accepted: {stdout} {stderr}"
        );
        ensure!(stderr.contains(refusal), "case {n}: {stderr}");
        ensure!(!marker.exists(), "case {n}: the command ran");
        ensure!(!stderr.contains("attacker") && !stdout.contains("attacker"), "{stderr}");
    }
    Ok(())
}

/// Separation of duties holds on the consumer, whatever the server says. The admin holds the org
/// key, issues the host (the certificate names them as its issuer, without self-approval) and is
/// also an approver of the entry. The honest server refuses the admin's lone approval; a
/// colluding server flips its own record of the host to "self-approval allowed" and lets the
/// admin approve alone through the real ceremony — `run` refuses the release from its own
/// org-signed certificate and the command never starts. `secret put --allow-self-approval`
/// points to where the option lives now, and a host issued with `host issue
/// --allow-self-approval` lets the admin (trying it alone) approve by themselves.
async fn a_colluding_server_cannot_let_the_issuer_approve_alone(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &["alice"]).await?;
    let admin = w.enrol_admin().await?;
    // The option moved to the certificate: the secret refuses it, saying where it went.
    let out =
        w.bv_stdin(&["secret", "put", "--policy", "any-of", "--allow-self-approval"], Some(b"x")).await?;
    let (_, stderr) = text(&out);
    ensure!(code(&out) == Some(1), "exit {:?}: {stderr}", code(&out));
    ensure!(stderr.contains("blindvault host issue --allow-self-approval"), "{stderr}");
    let id = w.put(&["--policy", "any-of"], "database", b"the org's value").await?;
    let key = w.host("host.key", &[&id]).await?;
    let env = format!("DB={id}");
    let marker = w.path("ran");
    let script = format!("echo \"$DB\" > {}", marker.display());
    let job =
        w.spawn(&["run", "--host-key", &key.to_string_lossy(), "--env", &env, "--", "sh", "-c", &script])?;
    let rid = w.next_request(admin).await?;
    // The honest server: the issuer alone is refused.
    let start = w.phones[admin]
        .session
        .agent
        .post(&paths::with_id(paths::BROKER_REQUEST_APPROVE_START, &rid), json!({}))
        .await?;
    ensure!(start.status == 403 && start.code() == Some(ErrorCode::SelfApprovalRefused), "{start:?}");
    // The colluding server rewrites its record of the host and lets the issuer approve alone.
    let pool = w.server.state.store.pool().clone();
    sqlx::query("UPDATE broker_hosts SET self_approval = 1").execute(&pool).await?;
    let r = w.approves(admin, &rid, "database").await?;
    ensure!(r["status"] == "approved", "{r}");
    let out = tokio::time::timeout(Duration::from_secs(60), job).await???;
    let (stdout, stderr) = text(&out);
    ensure!(!out.status.success(), "the issuer's lone approval was accepted: {stdout} {stderr}");
    ensure!(stderr.contains("separation of duties"), "{stderr}");
    ensure!(stderr.contains("host issue --allow-self-approval"), "{stderr}");
    ensure!(!marker.exists(), "the command ran");

    // Issued with --allow-self-approval (signed into the certificate): the admin alone releases.
    // (The server's record of the first host is put back first, so that the listing below shows
    // only what the certificates say.)
    sqlx::query("UPDATE broker_hosts SET self_approval = 0").execute(&pool).await?;
    let solo = w.host_with("solo.key", &[&id], &["--allow-self-approval"]).await?;
    let out = w.bv(&["host", "list"]).await?;
    let listed = text(&out).0;
    ensure!(listed.lines().filter(|l| l.contains("issuer may approve alone")).count() == 1, "{listed}");
    let job =
        w.spawn(&["run", "--host-key", &solo.to_string_lossy(), "--env", &env, "--", "sh", "-c", &script])?;
    let rid = w.next_request(admin).await?;
    let r = w.approves(admin, &rid, "database").await?;
    ensure!(r["status"] == "approved", "{r}");
    let out = tokio::time::timeout(Duration::from_secs(60), job).await???;
    ensure!(out.status.success(), "{:?}", text(&out));
    ensure!(std::fs::read_to_string(&marker)?.trim() == "the org's value");
    Ok(())
}

async fn revoked_or_unknown_host_is_refused(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &["alice"]).await?;
    let id = w.put(&["--policy", "any-of"], "database", b"hunter2").await?;
    let other = w.put(&["--policy", "any-of"], "other", b"x").await?;
    let key = w.host("host.key", &[&id]).await?;
    let key_s = key.to_string_lossy().into_owned();
    let env = format!("DB={id}");

    // An entry the certificate does not name.
    let out = w.bv(&["run", "--host-key", &key_s, "--env", &format!("X={other}"), "--", "true"]).await?;
    ensure!(
        code(&out) == Some(5) && text(&out).1.contains("not in this host's certificate"),
        "{:?}",
        text(&out)
    );

    let out = w.bv(&["host", "list", "--format", "json"]).await?;
    let hosts: Value = serde_json::from_slice(&out.stdout)?;
    let cert_id = hosts[0]["cert_id"].as_str().context("cert id")?.to_owned();
    // The revocation waits for the admin's passkey confirmation in the web app.
    let out = w
        .bv_confirmed(&["host", "revoke", &cert_id], async |w: &World| {
            let hosts = w.bv(&["host", "list", "--format", "json"]).await?;
            let hosts: Value = serde_json::from_slice(&hosts.stdout)?;
            ensure!(hosts[0]["revoked"] == false, "revoked before the confirmation: {hosts}");
            Ok(())
        })
        .await?;
    ensure!(out.status.success(), "revoke: {:?}", text(&out));
    ensure!(text(&out).1.contains("waiting for your confirmation"), "{:?}", text(&out));
    let out = w.bv(&["run", "--host-key", &key_s, "--env", &env, "--", "true"]).await?;
    let (_, stderr) = text(&out);
    ensure!(code(&out) == Some(5), "exit {:?}: {stderr}", code(&out));
    ensure!(stderr.contains("revoked"), "{stderr}");

    // A host the org never registered on this server (its certificate is not known here).
    let second = World::new(b, &["bob"]).await?;
    let out = second.bv(&["run", "--host-key", &key_s, "--env", &env, "--", "true"]).await?;
    let (_, stderr) = text(&out);
    ensure!(code(&out) == Some(5), "exit {:?}: {stderr}", code(&out));
    ensure!(stderr.contains("unknown_host") || stderr.contains("not registered"), "{stderr}");
    Ok(())
}

async fn admin_commands_fail_clearly(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &["alice"]).await?;
    // No token file (and none kept in the keyring for this server).
    let mut c = w.command(&["host", "list"]);
    c.env_remove("BLINDVAULT_TOKEN_FILE");
    let out = tokio::task::spawn_blocking(move || c.output()).await??;
    let err = text(&out).1;
    ensure!(
        code(&out) == Some(1) && err.contains("--token-file") && err.contains("blindvault login"),
        "{err}"
    );
    // A token no server made.
    std::fs::write(w.path("bad-token"), format!("bvt_{}\n", "A".repeat(43)))?;
    std::fs::set_permissions(w.path("bad-token"), std::fs::Permissions::from_mode(0o600))?;
    let mut c = w.command(&["host", "list"]);
    c.env("BLINDVAULT_TOKEN_FILE", w.path("bad-token"));
    let out = tokio::task::spawn_blocking(move || c.output()).await??;
    ensure!(code(&out) == Some(1) && text(&out).1.contains("token_invalid"), "{:?}", text(&out));
    // A wrong passphrase.
    std::fs::write(w.path("wrong"), "not the passphrase\n")?;
    let mut c = w.command(&["secret", "list"]);
    c.env("BLINDVAULT_PASSPHRASE_FILE", w.path("wrong"));
    let out = tokio::task::spawn_blocking(move || c.output()).await??;
    ensure!(code(&out) == Some(1) && text(&out).1.contains("wrong passphrase"), "{:?}", text(&out));
    // A bad entry id, an empty value, a bad policy.
    let out = w.bv(&["secret", "rm", "not-an-id"]).await?;
    ensure!(code(&out) == Some(1) && text(&out).1.contains("not an entry id"), "{:?}", text(&out));
    let out = w.bv_stdin(&["secret", "put", "--policy", "any-of"], Some(b"")).await?;
    ensure!(code(&out) == Some(1) && text(&out).1.contains("empty"), "{:?}", text(&out));
    let out = w.bv_stdin(&["secret", "put", "--m-of-n", "3"], Some(b"x")).await?;
    ensure!(code(&out) == Some(1) && text(&out).1.contains("only 1"), "{:?}", text(&out));
    // Ids are base64url and may start with '-': they are ids, not flags.
    let out = w.bv(&["secret", "rm", "-AAAAAAAAAAAAAAAAAAAAA"]).await?;
    ensure!(code(&out) == Some(1) && text(&out).1.contains("no_such_entry"), "{:?}", text(&out));
    // `host revoke` signs the id the admin typed (a malformed one is refused before anything is
    // signed); a host the server does not know (or hides) is still revoked by the org's record,
    // with a warning, and nothing is asked of the server.
    let out = w.bv(&["host", "revoke", "not-a-certificate"]).await?;
    ensure!(code(&out) == Some(1) && text(&out).1.contains("is not a certificate id"), "{:?}", text(&out));
    ensure!(!w.path("org").join("revocations").exists(), "nothing signed for a malformed id");
    let out = w.bv(&["host", "revoke", "-AAAAAAAAAAAAAAAAAAAAA"]).await?;
    let (stdout, stderr) = text(&out);
    ensure!(out.status.success(), "{stdout} {stderr}");
    ensure!(stdout.contains("revocation record 1 signed and uploaded"), "{stdout}");
    ensure!(stderr.contains("the server does not know host -AAAAAAAAAAAAAAAAAAAAA"), "{stderr}");
    ensure!(w.path("org").join("revocations").exists(), "the org's record names it");
    let out = w.bv(&["approver", "approve", "-AAAAAAAAAAAAAAAAAAAAA", "--yes"]).await?;
    ensure!(code(&out) == Some(1) && text(&out).1.contains("no enrolment"), "{:?}", text(&out));
    // org init refuses to overwrite.
    let out = w.bv(&["org", "init"]).await?;
    ensure!(code(&out) == Some(1) && text(&out).1.contains("already exists"), "{:?}", text(&out));
    // Removing the only approver warns and needs --yes.
    let id = w.put(&["--policy", "any-of"], "db", b"v").await?;
    let out = w.bv(&["approver", "list", "--format", "json"]).await?;
    let rows: Value = serde_json::from_slice(&out.stdout)?;
    ensure!(rows[0]["signature_ok"] == true, "{rows}");
    let enrolment = rows[0]["id"].as_str().context("id")?.to_owned();
    let out = w.bv(&["approver", "remove", &enrolment]).await?;
    let (_, stderr) = text(&out);
    ensure!(code(&out) == Some(1) && stderr.contains(&id) && stderr.contains("--yes"), "{stderr}");
    // The device can open `db`: without a new value (no terminal here), nothing is removed.
    let out = w.bv(&["approver", "remove", &enrolment, "--yes"]).await?;
    let (_, stderr) = text(&out);
    ensure!(code(&out) == Some(1) && stderr.contains("--rotate-later") && stderr.contains(&id), "{stderr}");
    let out = w
        .bv_confirmed(&["approver", "remove", &enrolment, "--yes", "--rotate-later"], async |w: &World| {
            let rows = w.bv(&["approver", "list", "--format", "json"]).await?;
            let rows: Value = serde_json::from_slice(&rows.stdout)?;
            ensure!(rows[0]["status"] == "approved", "removed before the confirmation: {rows}");
            Ok(())
        })
        .await?;
    let (stdout, stderr) = text(&out);
    ensure!(out.status.success(), "{stdout} {stderr}");
    ensure!(stderr.contains(&format!("blindvault secret rotate {id}")), "{stderr}");
    // --server and --token-file also work after the subcommand.
    let token = w.path("token").to_string_lossy().into_owned();
    let mut c = w.command(&["host", "list", "--server", &w.url, "--token-file", &token]);
    c.env_remove("BLINDVAULT_SERVER").env_remove("BLINDVAULT_TOKEN_FILE");
    let out = tokio::task::spawn_blocking(move || c.output()).await??;
    ensure!(out.status.success(), "{:?}", text(&out));
    // A server that cannot be reached.
    let mut c = w.command(&["host", "list"]);
    c.env("BLINDVAULT_SERVER", "http://127.0.0.1:9");
    let out = tokio::task::spawn_blocking(move || c.output()).await??;
    ensure!(code(&out) == Some(1) && text(&out).1.contains("cannot reach"), "{:?}", text(&out));
    Ok(())
}

/// `host issue` says what is wrong with its input and prints the expiry as a date; key and
/// token files open to other users are refused; `BLINDVAULT_INSECURE_HTTP` means what it says.
async fn host_issue_says_what_is_wrong_and_key_files_stay_private(b: Backend) -> anyhow::Result<()> {
    let w = World::new(b, &["alice"]).await?;
    let id = w.put(&["--policy", "any-of"], "database", b"hunter2").await?;
    let out_path = w.path("h.key");
    let out_s = out_path.to_string_lossy().into_owned();
    let issue = |entry: &str, expires: &str| {
        ["host", "issue", "--name", "ci-runner-7", "--entry", entry, "--expires", expires, "--out", &out_s]
            .map(str::to_owned)
    };
    let bv = async |args: [String; 10]| w.bv(&args.each_ref().map(String::as_str)).await;

    // One character mistyped: the id still has 22 characters; the message says what is wrong.
    let typo = format!("{}B", &id[..21]);
    let out = bv(issue(&typo, "1d")).await?;
    let (_, stderr) = text(&out);
    ensure!(code(&out) == Some(1) && stderr.contains("no id ends in 'B'"), "{stderr}");
    ensure!(!stderr.contains("22 characters"), "{stderr}");
    let out = bv(issue(&format!("{}+{}", &id[..5], &id[6..]), "1d")).await?;
    ensure!(text(&out).1.contains("character 6 ('+') is not base64url"), "{:?}", text(&out));
    // A well-formed id of no entry: the server says so.
    let unknown = blindvault_core::ids::EntryId::generate(&mut blindvault_client::os_rng()).to_text();
    let out = bv(issue(&unknown, "1d")).await?;
    ensure!(code(&out) == Some(1) && text(&out).1.contains("no_such_entry"), "{:?}", text(&out));

    // Too short a certificate.
    let out = bv(issue(&id, "1s")).await?;
    let (_, stderr) = text(&out);
    ensure!(code(&out) == Some(1) && stderr.contains("at least 5m"), "{stderr}");
    ensure!(!out_path.exists(), "no key file for a refused issue");

    // The expiry as an RFC 3339 date (and the Unix time beside it).
    let out = bv(issue(&id, "1d")).await?;
    let (stdout, stderr) = text(&out);
    ensure!(out.status.success(), "{stdout} {stderr}");
    let out_list = w.bv(&["host", "list", "--format", "json"]).await?;
    let hosts: Value = serde_json::from_slice(&out_list.stdout)?;
    let not_after = hosts[0]["not_after"].as_u64().context("not_after")?;
    let date = blindvault_client::rfc3339_utc(not_after);
    ensure!(stdout.contains(&format!("valid until {date} (Unix time {not_after})")), "{stdout}");
    ensure!(date.len() == 20 && date.as_bytes()[10] == b'T' && date.ends_with('Z'), "{date}");

    // A host key file others can read is refused, naming the fix.
    std::fs::set_permissions(&out_path, std::fs::Permissions::from_mode(0o644))?;
    let env = format!("DB={id}");
    let out = w.bv(&["run", "--host-key", &out_s, "--env", &env, "--", "true"]).await?;
    let (_, stderr) = text(&out);
    ensure!(code(&out) == Some(1) && stderr.contains(&format!("chmod 600 {out_s}")), "{stderr}");
    // So is a token file.
    let session = w.path("token");
    std::fs::set_permissions(&session, std::fs::Permissions::from_mode(0o640))?;
    let out = w.bv(&["host", "list"]).await?;
    let (_, stderr) = text(&out);
    ensure!(code(&out) == Some(1) && stderr.contains("chmod 600"), "{stderr}");
    std::fs::set_permissions(&session, std::fs::Permissions::from_mode(0o600))?;

    // BLINDVAULT_INSECURE_HTTP=0 does not allow plain http to another machine; a value that
    // means nothing is an error; 1 allows it (and then the made-up host cannot be reached).
    for (value, expect) in [
        ("0", "use https"),
        ("no", "use https"),
        ("maybe", "BLINDVAULT_INSECURE_HTTP=\"maybe\""),
        ("1", "cannot reach"),
    ] {
        let mut c = w.command(&["host", "list"]);
        c.env("BLINDVAULT_SERVER", "http://blindvault.invalid").env("BLINDVAULT_INSECURE_HTTP", value);
        let out = tokio::task::spawn_blocking(move || c.output()).await??;
        ensure!(code(&out) == Some(1) && text(&out).1.contains(expect), "{value}: {:?}", text(&out));
    }
    Ok(())
}

/// A `run` stopped by SIGTERM while it waits withdraws its request: the approver can no longer
/// approve it, and the command never starts.
async fn sigterm_while_waiting_withdraws_the_request(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &["alice"]).await?;
    let id = w.put(&["--policy", "any-of"], "database", b"hunter2").await?;
    let key = w.host("host.key", &[&id]).await?;
    let marker = w.path("ran");
    let script = format!("touch {}", marker.display());
    let env = format!("DB={id}");
    let child = w
        .command(&["run", "--host-key", &key.to_string_lossy(), "--env", &env, "--", "sh", "-c", &script])
        .spawn()?;
    let pid = child.id().to_string();
    let job = tokio::task::spawn_blocking(move || child.wait_with_output());
    let rid = w.next_request(0).await?;
    let killed = Command::new("kill").args(["-TERM", &pid]).status()?;
    ensure!(killed.success(), "kill -TERM {pid}");
    let out = tokio::time::timeout(Duration::from_secs(60), job).await???;
    let (_, stderr) = text(&out);
    ensure!(code(&out) == Some(143), "exit {:?}: {stderr}", code(&out));
    ensure!(stderr.contains("stopped by SIGTERM") && stderr.contains("withdrawn"), "{stderr}");
    ensure!(!marker.exists(), "the command must not run");
    let status: String = sqlx::query("SELECT status FROM broker_requests WHERE request_id = $1")
        .bind(&rid)
        .fetch_one(w.server.state.store.pool())
        .await?
        .try_get("status")?;
    ensure!(status == "cancelled", "{status}");
    let inbox = w.phones[0].session.agent.get(paths::BROKER_INBOX).await?.ok()?;
    ensure!(inbox.body == json!([]), "{:?}", inbox.body);
    let r = w.phones[0]
        .session
        .agent
        .post(&paths::with_id(paths::BROKER_REQUEST_APPROVE_START, &rid), json!({}))
        .await?;
    ensure!(r.status == 409 && r.code() == Some(ErrorCode::RequestNotPending), "{r:?}");
    Ok(())
}

/// Whether process `pid` still runs (a zombie has ended: its memory, environment included, is
/// gone).
fn running(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(')').map(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])))
        .is_some_and(|ended| !ended)
}

/// The process id the command wrote to `file` once it started (waited for as a condition,
/// bounded at 60 s).
async fn pid_written_to(file: &std::path::Path) -> anyhow::Result<String> {
    for _ in 0..3000 {
        let pid = std::fs::read_to_string(file).unwrap_or_default().trim().to_owned();
        if !pid.is_empty() {
            return Ok(pid);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    anyhow::bail!("the command did not start (nothing in {})", file.display())
}

/// At the end of the lease every process the command started loses the secret too, not just
/// the command itself: here a shell's background `sleep`, which the shell never passes the
/// SIGTERM on to.
async fn the_lease_ends_the_commands_whole_process_group(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &["alice"]).await?;
    let id = w.put(&["--policy", "any-of"], "database", b"hunter2").await?;
    let key = w.host("host.key", &[&id]).await?;
    let pid_file = w.path("grandchild.pid");
    let script = format!("sleep 1000 & echo $! > {}; wait", pid_file.display());
    let env = format!("DB={id}");
    let job = w.spawn(&[
        "run",
        "--host-key",
        &key.to_string_lossy(),
        "--env",
        &env,
        "--wait",
        "5m",
        "--lease",
        "5s",
        "--grace",
        "1s",
        "--",
        "sh",
        "-c",
        &script,
    ])?;
    let rid = w.next_request(0).await?;
    w.approves(0, &rid, "database").await?;
    let out = tokio::time::timeout(Duration::from_secs(60), job).await???;
    let (_, stderr) = text(&out);
    ensure!(code(&out) == Some(143), "exit {:?}: {stderr}", code(&out));
    ensure!(stderr.contains("the lease has ended"), "{stderr}");
    let grandchild = std::fs::read_to_string(&pid_file)?.trim().to_owned();
    ensure!(!grandchild.is_empty(), "the shell wrote its background job's pid");
    // Killed processes may take a moment to be gone: wait on their state, within a limit.
    let mut gone = false;
    for _ in 0..500 {
        if !running(&grandchild) {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if !gone {
        let _ = Command::new("kill").args(["-KILL", &grandchild]).status();
    }
    ensure!(gone, "the background process {grandchild} outlived the lease");
    Ok(())
}

/// An approver ends the lease from the web app while the command runs (a shell whose background
/// `sleep` never hears the shell's SIGTERM): `run` learns it through its lease poll, stops the
/// whole group, says who ended it and exits 7. The lease (15 min) is far from over.
async fn ending_the_lease_from_the_phone_stops_the_command_and_its_grandchild(
    b: Backend,
) -> anyhow::Result<()> {
    let mut w = World::new(b, &["alice"]).await?;
    let id = w.put(&["--policy", "any-of"], "database", b"hunter2").await?;
    let key = w.host("host.key", &[&id]).await?;
    let pid_file = w.path("grandchild.pid");
    let script = format!("sleep 300 & echo $! > {}; wait", pid_file.display());
    let env = format!("DB={id}");
    let job =
        w.spawn(&["run", "--host-key", &key.to_string_lossy(), "--env", &env, "--", "sh", "-c", &script])?;
    let rid = w.next_request(0).await?;
    w.approves(0, &rid, "database").await?;
    // The command runs once its grandchild's pid is written (waited on as a condition, bounded).
    let grandchild = pid_written_to(&pid_file).await?;
    ensure!(running(&grandchild), "the grandchild runs");
    let ended = w.phones[0]
        .session
        .agent
        .post(&paths::with_id(paths::BROKER_REQUEST_LEASE_END, &rid), json!({}))
        .await?
        .ok()?;
    ensure!(ended.body["state"] == "ended" && ended.body["ended_by_name"] == "alice", "{:?}", ended.body);
    let out = tokio::time::timeout(Duration::from_secs(120), job).await???;
    let (_, stderr) = text(&out);
    ensure!(code(&out) == Some(7), "exit {:?}: {stderr}", code(&out));
    ensure!(stderr.contains("the lease was ended early by alice"), "{stderr}");
    let mut gone = false;
    for _ in 0..500 {
        if !running(&grandchild) {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if !gone {
        let _ = Command::new("kill").args(["-KILL", &grandchild]).status();
    }
    ensure!(gone, "the background process {grandchild} outlived the ended lease");
    Ok(())
}

/// The enrolment id of `name`'s (first) device, from `approver list`.
async fn enrolment_of(w: &World, name: &str) -> anyhow::Result<String> {
    let out = w.bv(&["approver", "list", "--format", "json"]).await?;
    ensure!(out.status.success(), "approver list: {:?}", text(&out));
    let rows: Value = serde_json::from_slice(&out.stdout)?;
    let row = rows.as_array().context("rows")?.iter().find(|r| r["user_name"] == name).context("listed")?;
    Ok(row["id"].as_str().context("id")?.to_owned())
}

/// The latest sealed version of entry `id`, as the server stores it.
async fn stored_entry(w: &World, id: &str) -> anyhow::Result<SealedEntry> {
    let row = sqlx::query("SELECT sealed FROM broker_entries WHERE entry_id = $1 ORDER BY version DESC")
        .bind(id)
        .fetch_all(w.server.state.store.pool())
        .await?;
    let text: String = row.first().context("entry")?.try_get("sealed")?;
    Ok(SealedEntry::from_bytes(&blindvault_core::encoding::b64::decode(&text)?)?)
}

/// `approver remove` lists what the device could open and rotates each entry to a version
/// without it — refusing up front, with nothing changed, when it cannot. The transcript of the
/// run is in docs/broker.md.
async fn approver_remove_walks_through_rotation(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &["alice", "bob"]).await?;
    let db = w.put(&["--policy", "any-of"], "database", b"hunter2").await?;
    let api = w.put(&["--policy", "any-of"], "api token", b"tok-1").await?;
    let bob = enrolment_of(&w, "bob").await?;
    let bob_key = KeySchedule::derive(&w.phones[1].session.prf).approver_public();
    // Enrolments end (`not_after`); approving again renews one.
    let alice = enrolment_of(&w, "alice").await?;
    let out = w.bv(&["approver", "approve", &alice, "--yes", "--valid-for", "30d"]).await?;
    let (stdout, stderr) = text(&out);
    ensure!(out.status.success() && stdout.contains("enrolment valid until"), "{stdout} {stderr}");
    let out = w.bv(&["approver", "list", "--format", "json"]).await?;
    let rows: Value = serde_json::from_slice(&out.stdout)?;
    let until = rows
        .as_array()
        .context("rows")?
        .iter()
        .find(|r| r["id"] == alice.as_str())
        .context("alice")?["not_after"]
        .as_u64()
        .context("not_after")?;
    let now = blindvault_client::unix_now();
    ensure!(until > now + 29 * 86_400 && until <= now + 30 * 86_400 + 60, "{until}");
    ensure!(stored_entry(&w, &db).await?.envelope_for(&bob_key).is_some());

    // No terminal and no values: refused before anything changes, naming both entries.
    let out = w.bv(&["approver", "remove", &bob]).await?;
    let (_, stderr) = text(&out);
    ensure!(code(&out) == Some(1), "{stderr}");
    ensure!(stderr.contains(&db) && stderr.contains(&api) && stderr.contains("--value-file"), "{stderr}");
    eprintln!("--- transcript (refused) ---\n{stderr}---");
    ensure!(!w.path("org").join("revocations").exists(), "nothing signed");
    let out = w.bv(&["approver", "list", "--format", "json"]).await?;
    ensure!(String::from_utf8_lossy(&out.stdout).matches("\"approved\"").count() == 2, "nothing removed");

    // With the new values: revoked by the org key, removed, both rotated without bob.
    std::fs::write(w.path("db.new"), "hunter3")?;
    std::fs::write(w.path("api.new"), "tok-2")?;
    let db_arg = format!("{db}={}", w.path("db.new").display());
    let api_arg = format!("{api}={}", w.path("api.new").display());
    let out = w
        .bv_confirmed(
            &["approver", "remove", &bob, "--value-file", &db_arg, "--value-file", &api_arg],
            async |w: &World| {
                // The record is uploaded first; the server-side removal waits for the step-up.
                ensure!(w.path("org").join("revocations").exists(), "the record is signed first");
                Ok(())
            },
        )
        .await?;
    let (stdout, stderr) = text(&out);
    ensure!(out.status.success(), "{stdout} {stderr}");
    eprintln!("--- transcript (stdout) ---\n{stdout}--- (stderr) ---\n{stderr}---");
    ensure!(stdout.contains("revocation record 1 signed and uploaded"), "{stdout}");
    ensure!(stdout.contains(&format!("removed {bob}")), "{stdout}");
    ensure!(stdout.contains("the device could open 2 entries"), "{stdout}");
    ensure!(stdout.matches("rotated: now version 2").count() == 2, "{stdout}");
    for id in [&db, &api] {
        let e = stored_entry(&w, id).await?;
        ensure!(e.version == 2 && e.envelope_for(&bob_key).is_none() && e.envelopes.len() == 1, "{id}");
    }
    ensure!(w.path("org").join("revocations").exists(), "the admin keeps the record");
    // A removed device is not approved again: it must enrol anew.
    let out = w.bv(&["approver", "approve", &bob, "--yes"]).await?;
    let (_, stderr) = text(&out);
    ensure!(
        code(&out) == Some(1) && (stderr.contains("removed") || stderr.contains("no enrolment")),
        "{stderr}"
    );
    // Nor when the server lists it as pending again: the org's record names its key.
    sqlx::query("UPDATE broker_enrolments SET status = 'pending' WHERE id = $1")
        .bind(&bob)
        .execute(w.server.state.store.pool())
        .await?;
    let out = w.bv(&["approver", "approve", &bob, "--yes"]).await?;
    let (_, stderr) = text(&out);
    ensure!(code(&out) == Some(1) && stderr.contains("revocation record names this device"), "{stderr}");
    // The record the server holds is the org's, naming bob's device.
    let row =
        sqlx::query("SELECT record FROM broker_revocations").fetch_one(w.server.state.store.pool()).await?;
    let rec: String = row.try_get("record")?;
    let rec = blindvault_core::revocation::SignedRevocations::from_bytes(
        &blindvault_core::encoding::b64::decode(&rec)?,
    )?;
    ensure!(rec.verify(&w.org_pub()?)?.approver_revoked(&bob_key));
    // A later `secret rotate` never seals to bob's device, even if the server lists it again.
    sqlx::query("UPDATE broker_enrolments SET status = 'approved' WHERE id = $1")
        .bind(&bob)
        .execute(w.server.state.store.pool())
        .await?;
    let out = w.bv_stdin(&["secret", "rotate", &db], Some(b"hunter4")).await?;
    ensure!(out.status.success(), "{:?}", text(&out));
    ensure!(stored_entry(&w, &db).await?.envelope_for(&bob_key).is_none(), "not sealed to a revoked device");
    Ok(())
}

/// A removed device's old enrolment still verifies and it still holds its envelope of the
/// current version (the admin chose --rotate-later); the server puts the device back and relays
/// its approval. `run` refuses — the org's revocation record names it — and the command never
/// starts. The server then hides the record: this host has seen it, so it refuses the rollback.
async fn run_refuses_a_removed_device_that_the_server_put_back(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &["alice", "bob"]).await?;
    let id = w.put(&["--policy", "any-of"], "database", b"hunter2").await?;
    let key = w.host("host.key", &[&id]).await?;
    let key_s = key.to_string_lossy().into_owned();
    let env = format!("DB={id}");
    let run = ["run", "--host-key", &key_s, "--env", &env, "--", "sh", "-c", "exit 7"];
    let job = w.spawn(&run)?;
    let rid = w.next_request(1).await?;
    w.approves(1, &rid, "database").await?;
    let out = tokio::time::timeout(Duration::from_secs(60), job).await???;
    ensure!(code(&out) == Some(7), "bob released it before: {:?}", text(&out));

    let bob = enrolment_of(&w, "bob").await?;
    let out =
        w.bv_confirmed(&["approver", "remove", &bob, "--rotate-later"], async |_: &World| Ok(())).await?;
    ensure!(out.status.success(), "{:?}", text(&out));
    // The colluding server puts bob's device back.
    sqlx::query("UPDATE broker_enrolments SET status = 'approved' WHERE id = $1")
        .bind(&bob)
        .execute(w.server.state.store.pool())
        .await?;
    let job = w.spawn(&run)?;
    let rid = w.next_request(1).await?;
    w.approves(1, &rid, "database").await?;
    let out = tokio::time::timeout(Duration::from_secs(60), job).await???;
    let (_, stderr) = text(&out);
    ensure!(code(&out) == Some(1), "refused, the command never ran: {stderr}");
    ensure!(stderr.contains("revoked"), "{stderr}");
    ensure!(std::fs::read_to_string(format!("{key_s}.revocations")).is_ok(), "the host remembers the record");

    // The server hides the record as well: the host has seen epoch 1 and refuses.
    sqlx::query("DELETE FROM broker_revocations").execute(w.server.state.store.pool()).await?;
    let job = w.spawn(&run)?;
    let rid = w.next_request(1).await?;
    w.approves(1, &rid, "database").await?;
    let out = tokio::time::timeout(Duration::from_secs(60), job).await???;
    let (_, stderr) = text(&out);
    ensure!(code(&out) == Some(1), "{stderr}");
    ensure!(stderr.contains("older revocation record"), "{stderr}");

    // A host issued after the revocation carries the record in its key file: it refuses the
    // server's hiding from its very first delivery (an honest device's approval included).
    let key2 = w.host("host2.key", &[&id]).await?;
    let key2_s = key2.to_string_lossy().into_owned();
    let job = w.spawn(&["run", "--host-key", &key2_s, "--env", &env, "--", "sh", "-c", "exit 7"])?;
    let rid = w.next_request(0).await?;
    w.approves(0, &rid, "database").await?;
    let out = tokio::time::timeout(Duration::from_secs(60), job).await???;
    let (_, stderr) = text(&out);
    ensure!(code(&out) == Some(1), "{stderr}");
    ensure!(stderr.contains("older revocation record"), "{stderr}");
    Ok(())
}

/// Records are append-only: when the org directory's `revocations` and the server's record
/// diverge (two epoch-1 records, each naming another host), the admin's CLI builds on neither —
/// `host issue` and `host revoke` stop with an error naming the file.
async fn the_admin_stops_when_its_revocation_record_and_the_servers_diverge(
    b: Backend,
) -> anyhow::Result<()> {
    let w = World::new(b, &["alice"]).await?;
    let id = w.put(&["--policy", "any-of"], "database", b"hunter2").await?;
    w.host("a.key", &[&id]).await?;
    w.host("b.key", &[&id]).await?;
    let out = w.bv(&["host", "list", "--format", "json"]).await?;
    let hosts: Value = serde_json::from_slice(&out.stdout)?;
    let cert = |i: usize| hosts[i]["cert_id"].as_str().map(str::to_owned).context("cert id");
    let (a, b2) = (cert(0)?, cert(1)?);
    let local = w.path("org").join("revocations");
    let pool = w.server.state.store.pool().clone();
    // `host revoke` signs and uploads the record before it asks for the step-up; the step-up
    // is then cancelled (Ctrl-C): only the record matters here.
    let sign_only = async |cert: &str| -> anyhow::Result<()> {
        let (child, _, stderr) = w.spawn_until_link(&["host", "revoke", cert]).await?;
        let pid = child.id().to_string();
        ensure!(Command::new("kill").args(["-INT", &pid]).status()?.success(), "kill -INT {pid}");
        World::wait_with_stderr(child, stderr).await?;
        Ok(())
    };
    sign_only(&a).await?;
    let first = std::fs::read_to_string(&local)?;
    // Both copies forgotten, host b revoked: another epoch-1 record, naming only b.
    sqlx::query("DELETE FROM broker_revocations").execute(&pool).await?;
    std::fs::remove_file(&local)?;
    sign_only(&b2).await?;
    ensure!(std::fs::read_to_string(&local)? != first, "another epoch-1 record");
    // The server serves the first one again: neither contains the other.
    sqlx::query("UPDATE broker_revocations SET record = $1").bind(first.trim()).execute(&pool).await?;
    let out_s = w.path("c.key").to_string_lossy().into_owned();
    let out = w
        .bv(&["host", "issue", "--name", "ci-runner-8", "--expires", "1d", "--out", &out_s, "--entry", &id])
        .await?;
    let (stdout, stderr) = text(&out);
    ensure!(code(&out) == Some(1), "{stdout} {stderr}");
    ensure!(stderr.contains("diverge") && stderr.contains(&local.display().to_string()), "{stderr}");
    ensure!(!w.path("c.key").exists(), "no host file written");
    Ok(())
}

/// `host revoke`, `approver remove`, `secret rm` and `org push --replace` print a confirm link
/// and wait until the admin confirms the step-up with their passkey in the web app; Ctrl-C while
/// waiting cancels the step-up and does nothing.
async fn destructive_commands_wait_for_a_passkey_confirmation(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &["alice"]).await?;
    let id = w.put(&["--policy", "any-of"], "database", b"hunter2").await?;
    w.host("host.key", &[&id]).await?;
    let out = w.bv(&["host", "list", "--format", "json"]).await?;
    let hosts: Value = serde_json::from_slice(&out.stdout)?;
    let cert_id = hosts[0]["cert_id"].as_str().context("cert id")?.to_owned();

    // Ctrl-C while waiting: the step-up is cancelled, the host stays.
    let (child, step_up, stderr) = w.spawn_until_link(&["host", "revoke", &cert_id]).await?;
    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-INT", &pid]).status()?;
    ensure!(killed.success(), "kill -INT {pid}");
    let out = World::wait_with_stderr(child, stderr).await?;
    let (_, err) = text(&out);
    ensure!(
        code(&out) == Some(130) && err.contains("cancelled") && err.contains("nothing was done"),
        "{err}"
    );
    let view: StepUpView =
        w.admin.agent.get(&paths::with_id(paths::STEP_UP, &step_up)).await?.ok()?.json()?;
    ensure!(view.status.as_deref() == Some("cancelled"), "{view:?}");
    ensure!(view.action == "host.revoke" && view.target == cert_id, "{view:?}");
    let out = w.bv(&["host", "list", "--format", "json"]).await?;
    let hosts: Value = serde_json::from_slice(&out.stdout)?;
    ensure!(hosts[0]["revoked"] == false, "{hosts}");

    // `secret rm`: deleted only after the confirmation.
    let out = w
        .bv_confirmed(&["secret", "rm", &id], async |w: &World| {
            let list = w.bv(&["secret", "list", "--format", "json"]).await?;
            ensure!(String::from_utf8_lossy(&list.stdout).contains(&id), "deleted before the confirmation");
            Ok(())
        })
        .await?;
    ensure!(out.status.success(), "{:?}", text(&out));
    let list = w.bv(&["secret", "list", "--format", "json"]).await?;
    ensure!(!String::from_utf8_lossy(&list.stdout).contains(&id), "still listed");

    // `org push --replace`: a new org key, set only after the confirmation.
    let other = w.path("other-org").to_string_lossy().into_owned();
    let out = w.bv(&["org", "init", "--dir", &other]).await?;
    ensure!(out.status.success(), "{:?}", text(&out));
    let out = w.bv(&["org", "push", "--dir", &other]).await?;
    ensure!(code(&out) == Some(1) && text(&out).1.contains("--replace"), "{:?}", text(&out));
    let before = w.admin.agent.get(paths::BROKER_ORG).await?.ok()?.json::<OrgView>()?.fingerprint;
    let out = w
        .bv_confirmed(&["org", "push", "--dir", &other, "--replace"], async |w: &World| {
            let mut agent = w.admin.agent.clone();
            let now = agent.get(paths::BROKER_ORG).await?.ok()?.json::<OrgView>()?.fingerprint;
            ensure!(now == before, "replaced before the confirmation");
            Ok(())
        })
        .await?;
    ensure!(out.status.success(), "{:?}", text(&out));
    let now = w.admin.agent.get(paths::BROKER_ORG).await?.ok()?.json::<OrgView>()?.fingerprint;
    ensure!(
        now != before && text(&out).0.contains(now.as_deref().unwrap_or("-")),
        "{now:?} {:?}",
        text(&out)
    );

    // `invite create --role admin`: made only after the confirmation (a user invite needs none).
    let out = w
        .bv_confirmed(&["invite", "create", "--role", "admin", "--format", "json"], async |w: &World| {
            let list = w.bv(&["invite", "list", "--format", "json"]).await?;
            let rows: Value = serde_json::from_slice(&list.stdout)?;
            let admins = rows.as_array().context("rows")?.iter().filter(|r| r["role"] == "admin").count();
            ensure!(admins == 0, "made before the confirmation: {rows}");
            Ok(())
        })
        .await?;
    ensure!(out.status.success(), "{:?}", text(&out));
    let made: Value = serde_json::from_slice(&out.stdout)?;
    ensure!(made["role"] == "admin" && made["code"].is_string(), "{made}");
    ensure!(text(&out).1.contains("invite.create admin"), "{:?}", text(&out));
    let out = w.bv(&["invite", "create", "--format", "json"]).await?;
    ensure!(out.status.success() && !text(&out).1.contains("passkey"), "{:?}", text(&out));
    Ok(())
}

/// The issuer a host certificate names is a user id the server reports (`GET /api/me`). `org push`
/// pins the key holder's id in the org directory, and `host issue` signs only that id: a session
/// the server says is someone else's — another account of the holder, or a server that lies about
/// who is signed in — gets nothing signed, and no key file is written.
async fn host_issue_names_only_the_pinned_key_holder_as_issuer(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &["alice"]).await?;
    let pinned = std::fs::read_to_string(w.path("org").join("holder"))?;
    let me = w.admin.agent.clone().get(paths::ME).await?.ok()?;
    ensure!(pinned.trim() == me.body["user"]["id"].as_str().context("id")?, "{pinned} {}", me.body);
    let id = w.put(&["--policy", "any-of"], "database", b"hunter2").await?;
    // Alice's token (she makes one in the web app), used with the admin's org directory: the
    // server reports alice.
    let session = w.path("alice-token");
    let p = &mut w.phones[0];
    let made = p.device.create_token(&w.server, &mut p.session.agent, "alice", "consumer-read", None).await?;
    std::fs::write(&session, format!("{}\n", made.token))?;
    std::fs::set_permissions(&session, std::fs::Permissions::from_mode(0o600))?;
    let out_path = w.path("alice-host.json");
    let mut c = w.command(&[
        "host",
        "issue",
        "--name",
        "ci-runner-8",
        "--entry",
        &id,
        "--out",
        &out_path.to_string_lossy(),
    ]);
    c.env("BLINDVAULT_TOKEN_FILE", &session);
    let out = tokio::task::spawn_blocking(move || c.output()).await??;
    let (stdout, stderr) = text(&out);
    ensure!(code(&out) == Some(1), "exit {:?}: {stdout} {stderr}", code(&out));
    ensure!(stderr.contains("was pushed by user") && stderr.contains(pinned.trim()), "{stderr}");
    ensure!(!out_path.exists(), "no key file");
    // The holder's own session signs their id, and says so.
    let out = w
        .bv(&[
            "host",
            "issue",
            "--name",
            "ci-runner-9",
            "--entry",
            &id,
            "--out",
            &w.path("h9.json").to_string_lossy(),
        ])
        .await?;
    let (stdout, stderr) = text(&out);
    ensure!(
        out.status.success() && stdout.contains(&format!("issuer: user {}", pinned.trim())),
        "{stdout} {stderr}"
    );
    Ok(())
}

/// `approver remove` revokes the key the org signed in the enrolment, not the one the server
/// names: a colluding server swaps the key in its row (to have the admin revoke a device it
/// does not care about and keep the one it wants). The command refuses, says why, and signs
/// nothing.
async fn approver_remove_refuses_a_key_the_server_swapped(b: Backend) -> anyhow::Result<()> {
    let w = World::new(b, &["alice", "bob"]).await?;
    let bob = enrolment_of(&w, "bob").await?;
    sqlx::query("UPDATE broker_enrolments SET approver_key = $1 WHERE id = $2")
        .bind(blindvault_core::encoding::b64::encode(&[7u8; 32]))
        .bind(&bob)
        .execute(w.server.state.store.pool())
        .await?;
    let out = w.bv(&["approver", "remove", &bob, "--yes", "--rotate-later"]).await?;
    let (stdout, stderr) = text(&out);
    ensure!(code(&out) == Some(1), "{stdout} {stderr}");
    ensure!(
        stderr.contains("the server may be compromised") && stderr.contains("nothing was signed"),
        "{stderr}"
    );
    ensure!(!w.path("org").join("revocations").exists(), "nothing signed");
    let stored = sqlx::query("SELECT COUNT(*) AS n FROM broker_revocations")
        .fetch_one(w.server.state.store.pool())
        .await?
        .try_get::<i64, _>("n")?;
    ensure!(stored == 0, "nothing uploaded");
    Ok(())
}

/// `blindvault login` reads the token from stdin, checks it with the server and keeps it in the
/// OS keyring — or, where there is no usable keyring, says to use BLINDVAULT_TOKEN_FILE; admin
/// commands work with the token file; once the token is revoked in the web app, the next command
/// fails with a message that says what to do, exit 1.
async fn login_keeps_the_token_and_a_revoked_token_is_refused_clearly(b: Backend) -> anyhow::Result<()> {
    let w = World::new(b, &[]).await?;
    let token = std::fs::read_to_string(w.path("token"))?;
    let keyless = |args: &[&str]| {
        let mut c = w.command(args);
        c.env_remove("BLINDVAULT_TOKEN_FILE");
        c
    };
    // A token the server does not know is not kept.
    let mut c = keyless(&["login"]);
    c.stdin(Stdio::piped());
    let out = spawn_with_stdin(c, format!("bvt_{}\n", "B".repeat(43))).await?;
    ensure!(code(&out) == Some(1) && text(&out).1.contains("token_invalid"), "{:?}", text(&out));
    // The real one.
    let mut c = keyless(&["login"]);
    c.stdin(Stdio::piped());
    let out = spawn_with_stdin(c, token.clone()).await?;
    let (stdout, stderr) = text(&out);
    ensure!(!stdout.contains(token.trim()) && !stderr.contains(token.trim()), "the token is never printed");
    if out.status.success() {
        eprintln!("login: the OS keyring works on this machine");
        ensure!(
            stdout.contains("as admin") && stdout.contains("scope admin") && stdout.contains("expires"),
            "{stdout}"
        );
        let c = keyless(&["host", "list"]);
        let out = tokio::task::spawn_blocking(move || {
            let mut c = c;
            c.output()
        })
        .await??;
        ensure!(out.status.success(), "the kept token is used: {:?}", text(&out));
        let c = keyless(&["logout"]);
        let out = tokio::task::spawn_blocking(move || {
            let mut c = c;
            c.output()
        })
        .await??;
        ensure!(out.status.success() && text(&out).0.contains("Forgot"), "{:?}", text(&out));
        let c = keyless(&["host", "list"]);
        let out = tokio::task::spawn_blocking(move || {
            let mut c = c;
            c.output()
        })
        .await??;
        ensure!(code(&out) == Some(1) && text(&out).1.contains("no command-line token"), "{:?}", text(&out));
    } else {
        eprintln!("login: no usable OS keyring on this machine: {stderr}");
        ensure!(code(&out) == Some(1), "{stderr}");
        ensure!(
            stderr.contains("keyring")
                && stderr.contains("BLINDVAULT_TOKEN_FILE")
                && stderr.contains("chmod 600"),
            "{stderr}"
        );
    }
    // With the token file, admin commands work.
    let out = w.bv(&["host", "list"]).await?;
    ensure!(out.status.success(), "{:?}", text(&out));
    // Revoked in the web app: the next command is refused, saying what to do.
    let mut admin = w.admin.agent.clone();
    admin.delete(&paths::with_id(paths::TOKEN, &w.token_id)).await?.ok()?;
    let out = w.bv(&["host", "list"]).await?;
    let (_, stderr) = text(&out);
    ensure!(code(&out) == Some(1), "exit {:?}: {stderr}", code(&out));
    ensure!(
        stderr.contains("token_invalid")
            && stderr.contains("Command-line tokens")
            && stderr.contains("blindvault login"),
        "{stderr}"
    );
    Ok(())
}

async fn spawn_with_stdin(mut c: Command, input: String) -> anyhow::Result<Output> {
    tokio::task::spawn_blocking(move || {
        let mut child = c.spawn()?;
        {
            use std::io::Write;
            child.stdin.take().context("stdin")?.write_all(input.as_bytes())?;
        }
        Ok::<_, anyhow::Error>(child.wait_with_output()?)
    })
    .await?
}

/// Kills what a memory test started if it ends early: `run` (by pid) and the command's group.
struct KillOnDrop {
    run: Option<u32>,
    group: Option<String>,
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(g) = &self.group {
            let _ = Command::new("kill").args(["-KILL", "--", &format!("-{g}")]).status();
        }
        if let Some(run) = self.run {
            let _ = Command::new("kill").args(["-KILL", &run.to_string()]).status();
        }
    }
}

/// A memory dump of the consumer, taken as root would (every writable mapping of `blindvault
/// run`, read through /proc/PID/mem): while the command runs, and again after the lease has
/// ended (the command ignores SIGTERM, so `run` lives on through the grace), it holds no copy of
/// the secret's value (nor its base64url or hex, nor any 16-byte piece of them), of the DEK that
/// decrypted it, or of the request's ephemeral secret key. The command's environment is the only
/// place the value is. Two controls keep the test honest: the ephemeral key is found in a dump
/// taken while the request waits (it must be there then), and the value is found in the
/// command's own environment. `run` dumps no core: its soft core limit is 0 and it is not
/// dumpable (a process of the same user and capabilities cannot open its memory, while it can
/// the command's). Needs root (CAP_SYS_PTRACE) and util-linux `setpriv`; fails without them.
async fn a_memory_dump_of_run_holds_no_secret_dek_or_ephemeral_key(b: Backend) -> anyhow::Result<()> {
    use crate::procmem;
    use blindvault_core::entry::KeyMaterial;
    use blindvault_core::keys::EphemeralSecretKey;
    use std::io::Read;

    let mut w = World::new(b, &["alice"]).await?;
    let mut random = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut random)?;
    // Long and distinctive: no accidental match anywhere in a process's memory.
    let value = format!("bv-memory-test-{}", blindvault_core::encoding::hex::encode(random));
    let id = w.put(&["--policy", "any-of"], "database", value.as_bytes()).await?;
    let key = w.host("host.key", &[&id]).await?;
    // The DEK, as the phone opens it from the org-signed entry.
    let keys = KeySchedule::derive(&w.phones[0].session.prf);
    let dek = match stored_entry(&w, &id).await?.open_envelope(keys.approver_secret())?.key {
        KeyMaterial::Dek(d) => d.expose().to_vec(),
        KeyMaterial::Share(_) => bail!("an any-of entry releases the DEK"),
    };

    let started = w.path("started");
    // The command ignores SIGTERM: `run` outlives the lease's end by the grace.
    let script = format!("trap '' TERM; echo $$ > {}; while :; do sleep 1; done", started.display());
    let env = format!("DB={id}");
    let args = [
        "run",
        "--host-key",
        &key.to_string_lossy(),
        "--env",
        &env,
        "--lease",
        "12s",
        "--grace",
        "8s",
        "--",
        "sh",
        "-c",
        &script,
    ];
    let mut run = w.command_under(procmem::NO_PTRACE, &args).stdout(Stdio::null()).spawn()?;
    let pid = run.id();
    let mut guard = KillOnDrop { run: Some(pid), group: None };
    let mut stderr = run.stderr.take().context("stderr")?;
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = stderr.read(&mut buf) {
            if tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });

    let rid = w.next_request(0).await?;
    let view = w.phones[0]
        .session
        .agent
        .get(&paths::with_id(paths::BROKER_REQUEST, &rid))
        .await?
        .ok()?
        .json::<RequestView>()?;
    let ephemeral_public =
        SignedRequest::from_bytes(&b64_decode(&view.signed_request)?)?.request.ephemeral_key.to_array();

    // Waiting for approval: the ephemeral secret key must be in memory now — found by trying
    // every random-looking 32 bytes of the dump against the request's public key.
    ensure!(procmem::core_limit(pid)? == "0", "run's soft core file size limit is not 0");
    ensure!(!procmem::peer_can_read(pid)?, "run is dumpable: a process of its user can read its memory");
    let waiting = tokio::task::spawn_blocking(move || procmem::dump(pid)).await??;
    let ephemeral = tokio::task::spawn_blocking(move || {
        waiting
            .find_random32(|c| EphemeralSecretKey::from_bytes(*c).public_key().to_array() == ephemeral_public)
    })
    .await?;
    let ephemeral = match ephemeral.as_slice() {
        [k, ..] => *k,
        [] => bail!(
            "the request's ephemeral secret key is not in a dump of run taken while it waits: the dump \
             does not see the process's memory, so it cannot show that anything is gone"
        ),
    };

    w.approves(0, &rid, "database").await?;
    let child = pid_written_to(&started).await?;
    guard.group = Some(child.clone());
    // The value is where it must be: in the command's environment (and the probe can read a
    // dumpable process's memory, so its "no" for run means non-dumpable).
    let environ = std::fs::read(format!("/proc/{child}/environ"))?;
    let entry = format!("DB={value}");
    ensure!(
        environ.split(|&c| c == 0).any(|e| e == entry.as_bytes()),
        "the command's environment holds the secret"
    );
    ensure!(procmem::peer_can_read(child.parse()?)?, "the probe reads a dumpable process's memory");
    ensure!(procmem::core_limit(pid)? == "0" && !procmem::peer_can_read(pid)?, "run stays non-dumpable");

    let b64 = blindvault_core::encoding::b64::encode(value.as_bytes());
    let hex = blindvault_core::encoding::hex::encode(value.as_bytes());
    let mut needles = procmem::pieces("the value", value.as_bytes());
    needles.extend(procmem::pieces("the value in base64url", b64.as_bytes()));
    needles.extend(procmem::pieces("the value in hex", hex.as_bytes()));
    needles.extend(procmem::pieces("the DEK", &dek));
    needles.extend(procmem::pieces("the ephemeral secret key", &ephemeral));
    // X25519 implementations may keep the scalar clamped (first and last byte changed).
    needles.push(("the ephemeral secret key (bytes 1..31)".into(), ephemeral[1..31].to_vec()));
    let needles = std::sync::Arc::new(needles);

    // While the command runs.
    let n = needles.clone();
    let running =
        tokio::task::spawn_blocking(move || procmem::dump(pid).map(|d| (d.total(), d.copies(&n)))).await??;

    // After the lease has ended (SIGTERM sent; the command ignores it until the SIGKILL).
    let mut said = Vec::new();
    for _ in 0..1200 {
        while let Ok(chunk) = rx.try_recv() {
            said.extend(chunk);
        }
        if String::from_utf8_lossy(&said).contains("the lease has ended") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let said_text = String::from_utf8_lossy(&said).into_owned();
    ensure!(said_text.contains("the lease has ended"), "the lease did not end: {said_text}");
    let n = needles.clone();
    let ended =
        tokio::task::spawn_blocking(move || procmem::dump(pid).map(|d| (d.total(), d.copies(&n)))).await??;
    let status = tokio::task::spawn_blocking(move || run.wait()).await??;
    // Reaped, its pid may be reused: nothing left to kill.
    guard.run = None;
    guard.group = None;
    ensure!(status.code() == Some(137), "run ended with {status:?} (SIGKILL after the grace): {said_text}");
    ensure!(
        running.1.is_empty() && ended.1.is_empty(),
        "copies in run's memory ({} bytes read) while the command runs: {:#?}\nafter the lease ended \
         ({} bytes read): {:#?}",
        running.0,
        running.1,
        ended.0,
        ended.1
    );
    Ok(())
}
