//! Embeds the web app (`web/` at the workspace root, with the WebAssembly bundle that
//! `scripts/build-web.sh` writes to `web/pkg/`) into the server binary: a table of
//! `(path, bytes, content type)` generated into `OUT_DIR/web_assets.rs`, with the build's
//! version (`WEB_VERSION`: the first 16 bytes, in hex, of SHA-256 over every embedded path and
//! file) baked into the service worker (`web/sw.js`: `__BLINDVAULT_VERSION__` and the list of
//! files it caches, `__BLINDVAULT_SHELL__`), so a new build is a new service worker and a new
//! cache (docs/webapp.md "Installable app and offline").

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The service worker's path; its placeholders are filled here.
const SW: &str = "/sw.js";

fn content_type(p: &Path) -> Option<&'static str> {
    Some(match p.extension()?.to_str()? {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "txt" => "text/plain; charset=utf-8",
        _ => return None,
    })
}

fn walk(dir: &Path, root: &Path, out: &mut Vec<(String, PathBuf, &'static str)>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = rd.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, root, out);
        } else if let (Some(ct), Ok(rel)) = (content_type(&p), p.strip_prefix(root)) {
            let rel = rel.to_string_lossy().replace('\\', "/");
            out.push((format!("/{rel}"), p.clone(), ct));
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let web = manifest.join("../../web");
    println!("cargo:rerun-if-changed={}", web.display());
    let mut files = Vec::new();
    walk(&web, &web, &mut files);
    if !files.iter().any(|(p, _, _)| p.ends_with(".wasm")) {
        println!(
            "cargo:warning=web/pkg has no WebAssembly bundle: the web app will not start. Run ./scripts/build-web.sh (the run and test scripts do)."
        );
    }
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default());
    // The version: every path and file (the service worker's template included), length-prefixed.
    let mut h = Sha256::new();
    for (path, file, _) in &files {
        let bytes =
            std::fs::read(file).unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", file.display())));
        h.update((path.len() as u64).to_be_bytes());
        h.update(path.as_bytes());
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(&bytes);
    }
    let version: String = h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect();
    let mut src = format!(
        "/// The build's version of the web app (SHA-256 of every embedded file, 16 bytes in hex).\npub const WEB_VERSION: &str = {version:?};\n"
    );
    src.push_str(
        "/// The embedded web app: (path, bytes, content type).\npub static ASSETS: &[(&str, &[u8], &str)] = &[\n",
    );
    for (path, file, ct) in &files {
        let file = if path == SW { service_worker(file, &files, &version, &out_dir) } else { file.clone() };
        let _ = writeln!(src, "    ({path:?}, include_bytes!({:?}), {ct:?}),", file.display().to_string());
    }
    src.push_str("];\n");
    let out = out_dir.join("web_assets.rs");
    if let Err(e) = std::fs::write(&out, src) {
        fail(&format!("cannot write {}: {e}", out.display()));
    }
}

/// `web/sw.js` with the version and the list of files to cache (every asset but itself) filled
/// in, written to `OUT_DIR/sw.js`.
fn service_worker(file: &Path, files: &[(String, PathBuf, &str)], version: &str, out_dir: &Path) -> PathBuf {
    let template = std::fs::read_to_string(file)
        .unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", file.display())));
    let shell: Vec<&str> = files.iter().map(|(p, _, _)| p.as_str()).filter(|p| *p != SW).collect();
    let shell = format!("[{}]", shell.iter().map(|p| format!("{p:?}")).collect::<Vec<_>>().join(", "));
    if !template.contains("'__BLINDVAULT_VERSION__'") || !template.contains("'__BLINDVAULT_SHELL__'") {
        fail("web/sw.js lacks its placeholders '__BLINDVAULT_VERSION__' and '__BLINDVAULT_SHELL__'");
    }
    let body = template
        .replace("'__BLINDVAULT_VERSION__'", &format!("'{version}'"))
        .replace("'__BLINDVAULT_SHELL__'", &shell);
    let out = out_dir.join("sw.js");
    if let Err(e) = std::fs::write(&out, body) {
        fail(&format!("cannot write {}: {e}", out.display()));
    }
    out
}

fn fail(msg: &str) -> ! {
    println!("cargo:warning={msg}");
    std::process::exit(1);
}
