//! The consumer host's key files: the host key file (JSON: the host's secret key, its
//! org-signed certificate, the org key, the revocation record it was issued with;
//! `HostKeyFile::parse`, what `HostKeyFile::read` does with the bytes), and the memory kept
//! beside it (`HOSTKEY.versions`, `HOSTKEY.revocations`). Byte 0 chooses; the rest is the file.
#![no_main]
use std::path::Path;

use blindvault_client::hostfile::{HostKeyFile, VersionMemory};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    let path = Path::new("ci-1.json");
    match which % 3 {
        0 => {
            if let Ok(file) = HostKeyFile::parse(rest, path) {
                // What `read` accepted is consistent: its key is the certificate's, and the
                // certificate and record verify under its org key.
                assert_eq!(file.secret.public_key(), file.certificate.cert.host_key);
                assert!(file.certificate.verify(&file.org, file.certificate.cert.not_before).is_ok());
                if let Some(r) = &file.revocations {
                    assert!(r.verify(&file.org).is_ok());
                }
                let mut memory = VersionMemory::in_memory();
                memory.adopt_revocations(file.revocations.as_ref(), &file.org);
                let _ = memory.accept_revocations(file.revocations.as_ref(), &file.org);
            }
        }
        1 => {
            let _ = VersionMemory::parse_versions(rest, path);
        }
        _ => {
            if let Ok(text) = std::str::from_utf8(rest) {
                let _ = VersionMemory::parse_revocations(text, path);
            }
        }
    }
});
