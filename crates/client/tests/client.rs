//! blindvault-client's integration tests: key files, leases, templates.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use blindvault_client::hostfile::HostKeyFile;
use blindvault_client::lease::{LeaseSpec, run};
use blindvault_client::orgfile::{self, Passphrase};
use blindvault_client::{ClientError, os_rng, template};
use blindvault_core::identity::HostCertificate;
use blindvault_core::ids::{CertId, EntryId};
use blindvault_core::keys::{HostSecretKey, OrgSecretKey};
use blindvault_core::secret::SecretBytes;

#[test]
fn org_key_file_round_trip_and_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("org.key");
    let org = OrgSecretKey::generate(&mut os_rng());
    let pass = Passphrase::new("correct horse battery staple".into());
    orgfile::write(&path, &org, &pass, Some(10)).unwrap();
    // 0600, and the seed is not in the file.
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    let bytes = std::fs::read(&path).unwrap();
    assert!(!bytes.windows(32).any(|w| w == org.expose()));
    assert!(bytes.starts_with(b"age-encryption.org/v1"));
    // Round trip.
    let back = orgfile::read(&path, &pass).unwrap();
    assert_eq!(back.public_key(), org.public_key());
    // Wrong passphrase: a clear error, no key.
    let err = orgfile::read(&path, &Passphrase::new("wrong".into())).unwrap_err();
    assert!(matches!(err, ClientError::OrgKeyLocked), "{err}");
    // Never overwrite an org key.
    let err = orgfile::write(&path, &org, &pass, Some(10)).unwrap_err();
    assert!(matches!(err, ClientError::Exists(_)), "{err}");
    // A damaged file.
    let damaged = dir.path().join("damaged.key");
    std::fs::write(&damaged, b"not age").unwrap();
    assert!(matches!(orgfile::read(&damaged, &pass), Err(ClientError::BadFile { .. })));
    // Passphrase never prints.
    assert_eq!(format!("{pass:?}"), "Passphrase([REDACTED])");
    // Public key file.
    let pubp = dir.path().join("org.pub");
    orgfile::write_public(&pubp, &org.public_key()).unwrap();
    assert_eq!(orgfile::read_public(&pubp).unwrap(), org.public_key());
}

fn host_file(org: &OrgSecretKey, host: HostSecretKey) -> HostKeyFile {
    let cert = HostCertificate {
        cert_id: CertId::generate(&mut os_rng()),
        host_name: "ci-1".into(),
        host_key: host.public_key(),
        allowed_entries: vec![EntryId::generate(&mut os_rng())],
        not_before: 0,
        not_after: u64::MAX / 2,
        issuer: Some("admin-1".into()),
        self_approval: false,
    }
    .sign(org)
    .unwrap();
    HostKeyFile { secret: host, certificate: cert, org: org.public_key(), revocations: None }
}

#[test]
fn host_key_file_round_trip_and_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let org = OrgSecretKey::generate(&mut os_rng());
    let host = HostSecretKey::generate(&mut os_rng());
    let secret_hex = blindvault_core::encoding::b64::encode(host.expose());
    let f = host_file(&org, host);
    assert!(!format!("{f:?}").contains(&secret_hex));
    let path = dir.path().join("host.json");
    f.write(&path).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    let back = HostKeyFile::read(&path).unwrap();
    assert_eq!(back.certificate, f.certificate);
    // A key that does not match its certificate is refused.
    let other = host_file(&org, HostSecretKey::generate(&mut os_rng()));
    let mixed = HostKeyFile {
        secret: HostSecretKey::generate(&mut os_rng()),
        certificate: other.certificate,
        org: org.public_key(),
        revocations: None,
    };
    let p2 = dir.path().join("mixed.json");
    mixed.write(&p2).unwrap();
    assert!(matches!(HostKeyFile::read(&p2), Err(ClientError::BadFile { .. })));
    assert!(matches!(HostKeyFile::read(&dir.path().join("none.json")), Err(ClientError::Io { .. })));
}

fn sh(script: &str) -> Vec<OsString> {
    vec!["/bin/sh".into(), "-c".into(), script.into()]
}

/// All lease behaviour in one test: leases install process-wide signal handlers.
#[test]
fn leases() {
    // The child sees the secret and exits with its own code.
    let out = run(
        LeaseSpec {
            command: sh(r#"test "$DB_PASSWORD" = 'hunter2 with spaces' && exit 7; exit 1"#),
            env: vec![("DB_PASSWORD".into(), SecretBytes::from_slice(b"hunter2 with spaces"))],
            deadline: None,
            grace: Duration::from_secs(1),
        },
        || {},
    )
    .unwrap();
    assert_eq!(out.code, 7);
    assert!(!out.deadline_reached);

    // The deadline ends the lease: SIGTERM → 128 + 15.
    let t = Instant::now();
    let mut told = false;
    let out = run(
        LeaseSpec {
            command: sh("sleep 30"),
            env: vec![],
            deadline: Some(Instant::now() + Duration::from_millis(300)),
            grace: Duration::from_secs(2),
        },
        || told = true,
    )
    .unwrap();
    assert!(out.deadline_reached && told);
    assert_eq!(out.code, 128 + 15);
    assert!(t.elapsed() < Duration::from_secs(10));

    // A child that ignores SIGTERM is killed after the grace period.
    let out = run(
        LeaseSpec {
            command: sh("trap '' TERM; sleep 30"),
            env: vec![],
            deadline: Some(Instant::now() + Duration::from_millis(200)),
            grace: Duration::from_millis(300),
        },
        || {},
    )
    .unwrap();
    assert_eq!(out.code, 128 + 9);

    // The deadline ends the whole process group: a background job of the shell, which the
    // shell never passes the SIGTERM on to, is gone too.
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("grandchild");
    let out = run(
        LeaseSpec {
            command: sh(&format!("sleep 1000 & echo $! > {}; wait", pid_file.display())),
            env: vec![],
            deadline: Some(Instant::now() + Duration::from_secs(2)),
            grace: Duration::from_secs(1),
        },
        || {},
    )
    .unwrap();
    assert!(out.deadline_reached);
    let grandchild = std::fs::read_to_string(&pid_file).unwrap().trim().to_owned();
    let running = || {
        std::fs::read_to_string(format!("/proc/{grandchild}/stat"))
            .ok()
            .and_then(|s| s.rsplit_once(')').map(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X'])))
            .unwrap_or(false)
    };
    // Wait on the process's state (a killed process takes a moment to go), within a limit.
    let mut gone = false;
    for _ in 0..500 {
        if !running() {
            gone = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    if !gone {
        let _ = std::process::Command::new("kill").args(["-KILL", &grandchild]).status();
    }
    assert!(gone, "the background job {grandchild} outlived the lease");

    // Signals sent to the consumer reach the child.
    let me = nix::unistd::Pid::this();
    let sender = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        nix::sys::signal::kill(me, nix::sys::signal::Signal::SIGUSR1).unwrap();
    });
    let out = run(
        LeaseSpec {
            command: sh("trap 'exit 42' USR1; sleep 10 & wait"),
            env: vec![],
            deadline: None,
            grace: Duration::from_secs(1),
        },
        || {},
    )
    .unwrap();
    sender.join().unwrap();
    assert_eq!(out.code, 42);

    // Bad input: no command, bad variable names, NUL in a value, missing program.
    assert!(
        run(LeaseSpec { command: vec![], env: vec![], deadline: None, grace: Duration::ZERO }, || {})
            .is_err()
    );
    let bad = run(
        LeaseSpec {
            command: sh("true"),
            env: vec![("1BAD".into(), SecretBytes::from_slice(b"x"))],
            deadline: None,
            grace: Duration::ZERO,
        },
        || {},
    );
    assert!(bad.is_err());
    let nul = run(
        LeaseSpec {
            command: sh("true"),
            env: vec![("OK".into(), SecretBytes::from_slice(b"a\0b"))],
            deadline: None,
            grace: Duration::ZERO,
        },
        || {},
    )
    .unwrap_err();
    assert!(!nul.to_string().contains("a\0b"));
    let missing = run(
        LeaseSpec {
            command: vec!["/nonexistent/program".into()],
            env: vec![],
            deadline: None,
            grace: Duration::ZERO,
        },
        || {},
    );
    assert!(matches!(missing, Err(ClientError::Spawn { .. })));
}

#[test]
fn templates() {
    let t = "url = postgres://app:{{ blindvault \"DB\" }}@db/app\nkey={{blindvault \"API\"}}\nliteral {{{{ x }}\n";
    assert_eq!(template::names(t).unwrap(), vec!["DB".to_string(), "API".to_string()]);
    let mut v = BTreeMap::new();
    v.insert("DB".to_string(), SecretBytes::from_slice(b"s3cr3t"));
    v.insert("API".to_string(), SecretBytes::from_slice(b"k-123"));
    let out = template::render(t, &v).unwrap();
    assert_eq!(
        std::str::from_utf8(out.expose()).unwrap(),
        "url = postgres://app:s3cr3t@db/app\nkey=k-123\nliteral {{ x }}\n"
    );
    // Missing, unused, malformed.
    let mut only_db = BTreeMap::new();
    only_db.insert("DB".to_string(), SecretBytes::from_slice(b"s3cr3t"));
    assert!(template::render(t, &only_db).is_err());
    v.insert("EXTRA".to_string(), SecretBytes::from_slice(b"x"));
    assert!(template::render(t, &v).is_err());
    assert!(template::names("{{ nope }}").is_err());
    assert!(template::names("{{ blindvault \"A\" ").is_err());
}

#[test]
fn admin_org_and_host_issue() {
    use blindvault_client::admin;
    let dir = tempfile::tempdir().unwrap();
    let passfile = dir.path().join("pass");
    std::fs::write(&passfile, "a long enough passphrase\n").unwrap();
    let pass = admin::read_passphrase(Some(&passfile), "", false).unwrap();
    let public = admin::org_init(dir.path(), &pass, Some(10)).unwrap();
    assert_eq!(admin::org_public(dir.path()).unwrap(), public);
    assert!(matches!(admin::org_init(dir.path(), &pass, Some(10)), Err(ClientError::Exists(_))));
    let org = admin::org_secret(dir.path(), &pass).unwrap();
    assert_eq!(org.public_key(), public);
    // A mismatched org.pub is noticed.
    let other = tempfile::tempdir().unwrap();
    let other_pub = admin::org_init(other.path(), &pass, Some(10)).unwrap();
    std::fs::remove_file(dir.path().join("org.pub")).unwrap();
    blindvault_client::orgfile::write_public(&dir.path().join("org.pub"), &other_pub).unwrap();
    assert!(admin::org_secret(dir.path(), &pass).is_err());

    let entry = EntryId::generate(&mut os_rng());
    let out = dir.path().join("host.json");
    let now = blindvault_client::unix_now();
    let issuer = admin::Issuer { user_id: "admin-1".into(), self_approval: false };
    let f = admin::host_issue(
        &org,
        &admin::HostSpec { name: "ci-7", entries: &[entry], valid_secs: 86_400 },
        now,
        &issuer,
        &out,
        None,
    )
    .unwrap();
    let verified = f.certificate.verify(&public, now).unwrap();
    assert_eq!(verified.host_name, "ci-7");
    assert_eq!(verified.allowed_entries, vec![entry]);
    assert_eq!((verified.issuer.as_deref(), verified.self_approval), (Some("admin-1"), false));
    assert!(f.certificate.verify(&public, now + 86_401).is_err());
    let h2 = dir.path().join("h2.json");
    assert!(
        admin::host_issue(
            &org,
            &admin::HostSpec { name: "bad\nname", entries: &[entry], valid_secs: 10 },
            now,
            &issuer,
            &h2,
            None
        )
        .is_err()
    );

    assert_eq!(admin::parse_duration("90s").unwrap(), 90);
    assert_eq!(admin::parse_duration("15m").unwrap(), 900);
    assert_eq!(admin::parse_duration("30d").unwrap(), 30 * 86_400);
    for bad in ["", "0s", "5y", "m", "99999999999999999999d"] {
        assert!(admin::parse_duration(bad).is_err(), "{bad}");
    }
    // An empty passphrase file, and no terminal and no file, are clear errors.
    std::fs::write(&passfile, "\n").unwrap();
    assert!(admin::read_passphrase(Some(&passfile), "", false).is_err());
    // A new key's passphrase has a minimum length from a file too; an existing key opens with
    // whatever it was made with.
    std::fs::write(&passfile, "short\n").unwrap();
    let err = admin::read_passphrase(Some(&passfile), "", true).unwrap_err();
    assert!(err.to_string().contains("at least 8 characters") && !err.to_string().contains("short"), "{err}");
    assert!(admin::read_passphrase(Some(&passfile), "", false).is_ok());
}

#[test]
fn server_urls_need_tls_unless_local() {
    use blindvault_client::api::BrokerClient;
    assert!(BrokerClient::new("https://vault.example.com").is_ok());
    assert!(BrokerClient::new("http://localhost:8080").is_ok());
    assert!(BrokerClient::new("http://127.0.0.1:8080").is_ok());
    if std::env::var_os("BLINDVAULT_INSECURE_HTTP").is_none() {
        let err =
            BrokerClient::new("http://vault.example.com").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("https"), "{err}");
    }
    assert!(BrokerClient::new("ftp://vault.example.com").is_err());
    assert!(BrokerClient::new("https://user:pw@vault.example.com").is_err());
}

/// The host's memory of the newest entry versions it received (D40): starts empty, only rises,
/// survives a restart (a file beside the key, mode 0600), and a damaged file is an error rather
/// than a silent reset to "accept anything".
#[test]
fn a_host_remembers_the_newest_version_it_received() {
    use blindvault_client::hostfile::VersionMemory;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("ci-1.json");
    let e = EntryId::from_array([7; 16]);
    let mut m = VersionMemory::beside(&key).unwrap();
    assert_eq!(m.min_version(&e), 0);
    m.record(&e, 3);
    m.record(&e, 2);
    assert_eq!(m.min_version(&e), 3, "never lowered");
    m.save().unwrap();
    let file = dir.path().join("ci-1.json.versions");
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(VersionMemory::beside(&key).unwrap().min_version(&e), 3);
    // Two runs on one host, each loaded before the other saved: the newer version wins.
    let other = EntryId::from_array([8; 16]);
    let (mut first, mut second) =
        (VersionMemory::beside(&key).unwrap(), VersionMemory::beside(&key).unwrap());
    first.record(&e, 5);
    second.record(&other, 2);
    first.save().unwrap();
    second.save().unwrap();
    let back = VersionMemory::beside(&key).unwrap();
    assert_eq!((back.min_version(&e), back.min_version(&other)), (5, 2), "neither run's memory is lost");
    std::fs::write(&file, b"{not json").unwrap();
    assert!(VersionMemory::beside(&key).is_err());
}

/// A host key file issued after a revocation carries the org's record: the host refuses an older
/// one (or none) from its very first delivery; a record another key signed is refused on reading.
#[test]
fn a_host_issued_after_a_revocation_refuses_an_older_record() {
    use blindvault_client::admin;
    use blindvault_client::hostfile::VersionMemory;
    use blindvault_core::revocation::{Revocations, SignedRevocations};
    let dir = tempfile::tempdir().unwrap();
    let org = OrgSecretKey::generate(&mut os_rng());
    let entry = EntryId::generate(&mut os_rng());
    let now = blindvault_client::unix_now();
    let one = Revocations::none().next(&[], &[], now).unwrap().sign(&org).unwrap();
    let out = dir.path().join("h.json");
    let issuer = admin::Issuer { user_id: "admin-1".into(), self_approval: false };
    admin::host_issue(
        &org,
        &admin::HostSpec { name: "ci-7", entries: &[entry], valid_secs: 86_400 },
        now,
        &issuer,
        &out,
        Some(one.clone()),
    )
    .unwrap();
    let f = HostKeyFile::read(&out).unwrap();
    assert_eq!(f.revocations.as_ref(), Some(&one));
    let mut m = VersionMemory::beside(&out).unwrap();
    assert_eq!(m.revocation_epoch(), 0);
    m.adopt_revocations(f.revocations.as_ref(), &org.public_key());
    assert_eq!(m.revocation_epoch(), 1);
    assert!(matches!(
        m.accept_revocations(None, &org.public_key()),
        Err(blindvault_core::Error::Rollback { seen: 1, got: 0 })
    ));
    let two = one.record.next(&[], &[], now).unwrap().sign(&org).unwrap();
    assert_eq!(m.accept_revocations(Some(&two), &org.public_key()).unwrap().epoch, 2);
    m.save().unwrap();
    let text = std::fs::read_to_string(dir.path().join("h.json.revocations")).unwrap();
    let stored = SignedRevocations::from_bytes(&blindvault_core::encoding::b64::decode(text.trim()).unwrap());
    assert_eq!(stored.unwrap(), two);
    assert_eq!(VersionMemory::beside(&out).unwrap().revocation_epoch(), 2);
    // Signed by another key: the file is refused.
    let rogue = OrgSecretKey::generate(&mut os_rng());
    let forged = Revocations::none().next(&[], &[], now).unwrap().sign(&rogue).unwrap();
    let out2 = dir.path().join("h2.json");
    admin::host_issue(
        &org,
        &admin::HostSpec { name: "ci-7", entries: &[entry], valid_secs: 86_400 },
        now,
        &issuer,
        &out2,
        Some(forged),
    )
    .unwrap();
    assert!(matches!(HostKeyFile::read(&out2), Err(ClientError::BadFile { .. })));
}

/// The host's revocation memory is append-only and tied to the org key: a delivered record of
/// the same epoch with other content, or one that drops a revocation, is refused; a stored record
/// another org key signed (the org key was replaced) counts as none; and two runs saving at once
/// never lower the stored record.
#[test]
fn a_host_keeps_its_revocation_record_append_only_and_per_org() {
    use blindvault_client::hostfile::VersionMemory;
    use blindvault_core::revocation::{Revocations, SignedRevocations};
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("h.json");
    let org = OrgSecretKey::generate(&mut os_rng());
    let now = blindvault_client::unix_now();
    use blindvault_core::keys::ApproverPublicKey;
    let (a, b) = (ApproverPublicKey::from_array([1; 32]), ApproverPublicKey::from_array([2; 32]));
    let one = Revocations::none().next(&[a], &[], now).unwrap().sign(&org).unwrap();
    let mut m = VersionMemory::beside(&key).unwrap();
    m.accept_revocations(Some(&one), &org.public_key()).unwrap();
    m.save().unwrap();
    // Same epoch, other content (a fork): refused.
    let fork = Revocations::none().next(&[b], &[], now).unwrap().sign(&org).unwrap();
    let mut m = VersionMemory::beside(&key).unwrap();
    assert_eq!(
        m.accept_revocations(Some(&fork), &org.public_key()).err(),
        Some(blindvault_core::Error::Diverged { seen: 1, got: 1 })
    );
    // A higher epoch that no longer names `a`: refused.
    let mut shrunk = Revocations::none().next(&[b], &[], now).unwrap();
    shrunk.epoch = 2;
    let shrunk = shrunk.sign(&org).unwrap();
    assert_eq!(
        m.accept_revocations(Some(&shrunk), &org.public_key()).err(),
        Some(blindvault_core::Error::Diverged { seen: 1, got: 2 })
    );
    // Two runs loaded before either saved: one took epoch 3, the other epoch 2; whichever saves
    // last, the stored record stays epoch 3.
    let two = one.record.next(&[b], &[], now).unwrap().sign(&org).unwrap();
    let three = two.record.next(&[], &[], now).unwrap().sign(&org).unwrap();
    let (mut first, mut second) =
        (VersionMemory::beside(&key).unwrap(), VersionMemory::beside(&key).unwrap());
    first.accept_revocations(Some(&three), &org.public_key()).unwrap();
    second.accept_revocations(Some(&two), &org.public_key()).unwrap();
    first.save().unwrap();
    second.save().unwrap();
    let read = || {
        let text = std::fs::read_to_string(dir.path().join("h.json.revocations")).unwrap();
        SignedRevocations::from_bytes(&blindvault_core::encoding::b64::decode(text.trim()).unwrap()).unwrap()
    };
    assert_eq!(read(), three, "never lowered");
    // The org key is replaced: the old org's record is not this org's memory, so the new org's
    // first record (epoch 1) is accepted and stored, and an older one of the new org is then refused.
    let new_org = OrgSecretKey::generate(&mut os_rng());
    let fresh = Revocations::none().next(&[], &[], now).unwrap().sign(&new_org).unwrap();
    let mut m = VersionMemory::beside(&key).unwrap();
    assert_eq!(m.accept_revocations(Some(&fresh), &new_org.public_key()).unwrap().epoch, 1);
    m.save().unwrap();
    assert_eq!(read(), fresh);
    let mut m = VersionMemory::beside(&key).unwrap();
    assert_eq!(
        m.accept_revocations(None, &new_org.public_key()).err(),
        Some(blindvault_core::Error::Rollback { seen: 1, got: 0 })
    );
    // No record at all from the new org's server is fine while nothing of that org was seen.
    let key2 = dir.path().join("h2.json");
    std::fs::copy(dir.path().join("h.json.revocations"), dir.path().join("h2.json.revocations")).unwrap();
    let mut m = VersionMemory::beside(&key2).unwrap();
    assert_eq!(m.accept_revocations(None, &org.public_key()).unwrap(), Revocations::none());
}
