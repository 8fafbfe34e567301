//! Bad input to every subcommand: a message on stderr that says what to do and a non-zero exit
//! — never a panic (exit 101), a hang, a secret echoed back, or an empty complaint.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};

/// Runs the binary with `args` and `stdin` under a throwaway `$BLINDVAULT_HOME`, killing it after
/// 30 s. Returns (exit code, stderr). It runs in a session of its own (`setsid`), without a
/// controlling terminal: a passphrase prompt reads the terminal, not stdin, and would otherwise
/// wait for a developer who runs the tests in one.
fn run(home: &std::path::Path, args: &[&str], stdin: &str) -> anyhow::Result<(Option<i32>, String)> {
    let mut child = Command::new("setsid")
        .arg("--wait")
        .arg(env!("CARGO_BIN_EXE_blindvault"))
        .args(args)
        .env("BLINDVAULT_HOME", home)
        .env_remove("BLINDVAULT_SESSION_FILE")
        .env_remove("BLINDVAULT_TOKEN_FILE")
        .env_remove("BLINDVAULT_PASSPHRASE_FILE")
        .env_remove("BLINDVAULT_DATABASE_URL")
        .env_remove("BLINDVAULT_DATA_DIR")
        .env_remove("BLINDVAULT_SERVER")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    if let Some(mut i) = child.stdin.take() {
        let _ = i.write_all(stdin.as_bytes());
    }
    let started = Instant::now();
    loop {
        if child.try_wait()?.is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(30) {
            child.kill()?;
            anyhow::bail!("{args:?}: no answer in 30 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output()?;
    Ok((out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned()))
}

/// Whether this build of the binary carries `subcommand` (the cargo features of
/// `crates/cli/Cargo.toml`; the default build carries every one).
fn in_this_build(subcommand: &str) -> bool {
    match subcommand {
        "serve" | "audit" | "web" | "backup" | "restore" => cfg!(feature = "server"),
        "wallet" => cfg!(feature = "wallet"),
        "org" | "approver" | "invite" | "host" | "secret" | "admin" | "login" | "logout" => {
            cfg!(feature = "admin")
        }
        "run" | "inject" => cfg!(feature = "consumer"),
        _ => true,
    }
}

/// Every subcommand of this build answers `--help`; one a build leaves out (the consumer build:
/// no server, wallet or admin commands) is a usage error that names it, exit 1.
#[test]
fn the_build_has_exactly_the_subcommands_of_its_features() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let all = [
        "info", "serve", "audit", "wallet", "org", "approver", "invite", "host", "secret", "run", "inject",
        "web", "admin", "login", "logout", "backup", "restore",
    ];
    for sub in all {
        let (code, err) = run(dir.path(), &[sub, "--help"], "")?;
        if in_this_build(sub) {
            ensure!(code == Some(0), "{sub} --help: exit {code:?}: {err}");
        } else {
            ensure!(
                code == Some(1) && err.contains("unrecognized subcommand"),
                "{sub}: exit {code:?}: {err}"
            );
        }
    }
    Ok(())
}

#[test]
fn every_subcommand_refuses_bad_input_with_a_message() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home)?;
    let p = |name: &str| dir.path().join(name).display().to_string();
    std::fs::write(p("garbage.json"), "{ this is not a host key")?;
    std::fs::write(p("empty"), "")?;
    std::fs::write(p("short-pass"), "abc\n")?;
    std::fs::write(p("session"), "not-a-session-token\n")?;
    // Private, so that each case fails for the reason it is about.
    std::fs::set_permissions(p("session"), std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    // A token of the right shape that no server knows (nothing listens at `no_server` anyway).
    std::fs::write(p("token"), format!("bvt_{}\n", "A".repeat(43)))?;
    std::fs::set_permissions(p("token"), std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    std::fs::write(p("template"), "A={{ blindvault \"A\" ")?;
    let no_server = "http://127.0.0.1:9"; // discard port: nothing listens
    // A valid mnemonic (BIP-39's all-ones vector), so that the flag is what is wrong; and one
    // whose checksum fails.
    let secret_words = "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong";
    let bad_checksum = "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo";
    let cases: Vec<(Vec<String>, &str)> = [
        (vec!["org", "show"], ""),
        (vec!["org", "init", "--passphrase-file", &p("short-pass")], ""),
        (vec!["org", "init"], ""),
        (vec!["org", "push", "--server", no_server, "--token-file", &p("token")], ""),
        (vec!["approver", "list", "--server", "not a url", "--token-file", &p("token")], ""),
        (vec!["approver", "list", "--server", "http://example.com", "--token-file", &p("token")], ""),
        (vec!["approver", "list", "--server", no_server, "--token-file", &p("missing")], ""),
        (vec!["approver", "list", "--server", no_server, "--token-file", &p("empty")], ""),
        (vec!["approver", "list", "--server", no_server, "--token-file", &p("session")], ""),
        (vec!["approver", "list", "--server", no_server, "--token-file", &p("token")], ""),
        (vec!["approver", "list", "--server", no_server, "--session-file", &p("session")], ""),
        (vec!["approver", "approve", "-", "--server", no_server, "--token-file", &p("token")], ""),
        (vec!["login", "--server", no_server], ""),
        (vec!["login", "--server", no_server], "not-a-session-token"),
        (vec!["login", "--server", "not a url"], ""),
        (
            vec![
                "host",
                "issue",
                "--name",
                "x",
                "--entry",
                "bogus",
                "--expires",
                "30d",
                "--out",
                &p("h.json"),
            ],
            "",
        ),
        (
            vec![
                "host",
                "issue",
                "--name",
                "x",
                "--entry",
                "AAAAAAAAAAAAAAAAAAAAAA",
                "--expires",
                "banana",
                "--out",
                &p("h.json"),
            ],
            "",
        ),
        (
            vec![
                "secret",
                "put",
                "--label",
                "x",
                "--policy",
                "any-of",
                "--server",
                no_server,
                "--token-file",
                &p("token"),
            ],
            "hunter2",
        ),
        (
            vec![
                "secret",
                "put",
                "--label",
                "x",
                "--policy",
                "most-of",
                "--server",
                no_server,
                "--token-file",
                &p("token"),
            ],
            "hunter2",
        ),
        (vec!["run", "--host-key", &p("missing"), "--env", "A=AAAAAAAAAAAAAAAAAAAAAA", "--", "true"], ""),
        (
            vec!["run", "--host-key", &p("garbage.json"), "--env", "A=AAAAAAAAAAAAAAAAAAAAAA", "--", "true"],
            "",
        ),
        (vec!["run", "--host-key", &p("garbage.json"), "--env", "NOEQUALS", "--", "true"], ""),
        (
            vec!["inject", "--host-key", &p("garbage.json"), "--template", &p("template"), "--out", &p("o")],
            "",
        ),
        (vec!["inject", "--host-key", &p("garbage.json"), "--template", &p("missing"), "--out", &p("o")], ""),
        (vec!["web", "verify", "--server", no_server], ""),
        (vec!["wallet", "addresses", "--chain", "all"], bad_checksum),
        (vec!["wallet", "addresses", "--chain", "all"], ""),
        (vec!["wallet", "addresses", "--chain", "dogecoin"], secret_words),
        (vec!["wallet", "addresses", "--chain", "evm", "--count", "0"], secret_words),
        (
            vec!["wallet", "addresses", "--chain", "evm", "--index", "4294967295", "--count", "2"],
            secret_words,
        ),
        (vec!["wallet", "addresses", "--chain", "solana", "--path", "m/44'/501'/0"], secret_words),
        (vec!["wallet", "addresses", "--chain", "evm", "--path", "m/x"], secret_words),
        (vec!["wallet", "addresses", "--chain", "evm", "--passphrase-file", &p("missing")], secret_words),
        (vec!["audit", "verify", "--data-dir", &p("no-such-dir")], ""),
        (vec!["audit", "verify", "--database-url", "bogus://x"], ""),
        (vec!["audit", "verify", "--data-dir", &p("no-such-dir"), "--anchor", "1:zz"], ""),
        (vec!["serve", "--listen", "not-an-address"], ""),
        (vec!["backup", "--data-dir", &p("no-such-dir"), "--out", &p("b.db")], ""),
        (vec!["backup", "--database-url", "bogus://x", "--out", &p("b2.db")], ""),
        (vec!["backup", "--data-dir", &p("no-such-dir")], ""),
        (vec!["restore", "--from", &p("no-such-backup"), "--data-dir", &p("r")], ""),
        (vec!["restore", "--from", &p("template"), "--data-dir", &p("r2")], ""),
    ]
    .into_iter()
    .filter(|(a, _)| in_this_build(a[0]))
    .map(|(a, s)| (a.into_iter().map(str::to_owned).collect(), s))
    .collect();
    let mut failures = Vec::new();
    for (args, stdin) in &cases {
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, err) = run(&home, &argv, stdin).with_context(|| format!("{argv:?}"))?;
        let problem = if code == Some(0) {
            Some("exit 0")
        } else if code == Some(101) || err.contains("panicked") {
            Some("panicked")
        } else if code.is_none() {
            Some("killed by a signal")
        } else if err.trim().len() < 10 {
            Some("no message")
        } else if err.contains("hunter2") || err.contains("zoo zoo") || err.contains("not-a-session-token") {
            Some("echoed a secret")
        } else {
            None
        };
        if let Some(what) = problem {
            failures.push(format!("{argv:?}: {what} (exit {code:?}): {err}"));
        }
    }
    ensure!(failures.is_empty(), "{} of {}:\n{}", failures.len(), cases.len(), failures.join("\n"));
    let (code, err) = run(&home, &["no-such-command"], "")?;
    ensure!(code == Some(1) && !err.trim().is_empty(), "no-such-command: exit {code:?}: {err}");
    if !(in_this_build("audit") && in_this_build("wallet") && in_this_build("org")) {
        return Ok(());
    }
    // Usage errors exit 1 (2 is only a broken audit chain); help exits 0.
    let one = format!("1:{}", "a".repeat(64));
    let other = format!("1:{}", "b".repeat(64));
    for args in [
        vec!["audit", "verify", "--ancor", "x"],
        vec!["audit", "verify", "--anchor"],
        vec!["audit", "verify", "--anchor", &one, "--anchor", &other],
        vec!["no-such-command"],
        vec!["wallet", "addresses", "--bogus"],
    ] {
        let (code, err) = run(&home, &args, "")?;
        ensure!(code == Some(1) && !err.trim().is_empty(), "{args:?}: exit {code:?}: {err}");
    }
    let (_, err) = run(&home, &["audit", "verify", "--anchor", &one, "--anchor", &other], "")?;
    ensure!(err.contains("disagree"), "{err}");
    let (code, _) = run(&home, &["audit", "verify", "--help"], "")?;
    ensure!(code == Some(0), "--help exits {code:?}");
    // The commonest first-run mistakes name the next step.
    let (_, err) = run(&home, &["org", "show"], "")?;
    ensure!(err.contains("blindvault org init") && err.contains("BLINDVAULT_HOME"), "{err}");
    let missing = p("missing");
    let (_, err) = run(&home, &["approver", "list", "--server", no_server, "--token-file", &missing], "")?;
    ensure!(err.contains("no such token file") && err.contains("Command-line tokens"), "{err}");
    // The web-session file of before points to tokens.
    let (code, err) =
        run(&home, &["approver", "list", "--server", no_server, "--session-file", &p("session")], "")?;
    ensure!(
        code == Some(1) && err.contains("BLINDVAULT_TOKEN_FILE") && err.contains("blindvault login"),
        "{err}"
    );
    // A token file others may read is refused, naming the fix.
    std::fs::set_permissions(p("token"), std::os::unix::fs::PermissionsExt::from_mode(0o644))?;
    let (_, err) = run(&home, &["approver", "list", "--server", no_server, "--token-file", &p("token")], "")?;
    ensure!(err.contains("chmod 600"), "{err}");
    let (_, err) = run(&home, &["org", "init", "--passphrase-file", &p("short-pass")], "")?;
    ensure!(err.contains("at least 8 characters"), "{err}");
    Ok(())
}

/// The README's `printf %s VALUE | blindvault secret put …`: the secret comes on stdin, and the
/// org key's passphrase is still asked on the terminal. Shown with `org init` (which asks twice
/// and needs no server) on a pseudo-terminal (util-linux `script`) with stdin a pipe.
#[cfg(feature = "admin")]
#[test]
fn the_passphrase_is_asked_on_the_terminal_when_stdin_is_a_pipe() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let home = dir.path().join("home");
    let bin = env!("CARGO_BIN_EXE_blindvault");
    ensure!(!bin.contains('\''), "the binary's path needs quoting: {bin}");
    let mut child = Command::new("script")
        .args(["-qec", &format!("printf 'not the passphrase\\n' | '{bin}' org init"), "/dev/null"])
        .env("BLINDVAULT_HOME", &home)
        .env("BLINDVAULT_TEST_SCRYPT_LOG_N", "4")
        .env_remove("BLINDVAULT_PASSPHRASE_FILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    // Typed on the terminal: the passphrase and its repetition. Stdin stays open until the end
    // (`script` ends the session when it closes).
    let mut keyboard = child.stdin.take().context("stdin")?;
    keyboard.write_all(b"a long enough passphrase\na long enough passphrase\n")?;
    let started = Instant::now();
    while child.try_wait()?.is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            child.kill()?;
            anyhow::bail!("org init did not finish in 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(keyboard);
    let out = child.wait_with_output()?;
    let shown = String::from_utf8_lossy(&out.stdout);
    ensure!(out.status.success(), "exit {:?}: {shown}", out.status.code());
    ensure!(shown.contains("New org key passphrase:") && shown.contains("fingerprint:"), "{shown}");
    ensure!(home.join("org.key").exists(), "no org key made: {shown}");
    Ok(())
}
