//! Embeds the web app (`web/` at the workspace root, with the WebAssembly bundle that
//! `scripts/build-web.sh` writes to `web/pkg/`) into the server binary: a table of
//! `(path, bytes, content type)` generated into `OUT_DIR/web_assets.rs`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

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
    let mut src = String::from(
        "/// The embedded web app: (path, bytes, content type).\npub static ASSETS: &[(&str, &[u8], &str)] = &[\n",
    );
    for (path, file, ct) in &files {
        let _ = writeln!(src, "    ({path:?}, include_bytes!({:?}), {ct:?}),", file.display().to_string());
    }
    src.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("web_assets.rs");
    if let Err(e) = std::fs::write(&out, src) {
        println!("cargo:warning=cannot write {}: {e}", out.display());
        std::process::exit(1);
    }
}
