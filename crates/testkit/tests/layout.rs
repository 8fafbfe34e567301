//! The tree's layout rules, checked on the source (docs/architecture.md):
//! - no import circle between the files of any crate (an edge is a `crate::…` or `super::…`
//!   path in one file that names an item of another file's module; `mod x;` declarations are
//!   not edges);
//! - no file in `crates/server/src` over 400 lines;
//! - no SQL in the file that defines the routes, and SQL in `crates/server/src` only in storage
//!   modules: a file named `store.rs` or one under a `store/` directory.
#![allow(clippy::panic, clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `src/a/b.rs` and `src/a/b/mod.rs` are `a::b`; `lib.rs` and `main.rs` are the root, "".
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        parts.pop();
    }
    parts.join("::")
}

/// The source without comments and string contents (so a path in a doc comment or a message
/// is not an import).
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let line = match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        };
        let mut in_str = false;
        let mut prev = ' ';
        for c in line.chars() {
            if c == '"' && prev != '\\' {
                in_str = !in_str;
                out.push('"');
            } else if !in_str {
                out.push(c);
            }
            prev = c;
        }
        out.push('\n');
    }
    out
}

/// Every path the code names from `crate::` or `super::`, expanded through `{…}` groups, as
/// absolute module paths (segments).
fn referenced_paths(module: &str, code: &str) -> Vec<Vec<String>> {
    let own: Vec<String> =
        if module.is_empty() { vec![] } else { module.split("::").map(String::from).collect() };
    let bytes: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let rest: String = bytes[i..bytes.len().min(i + 7)].iter().collect();
        let boundary =
            i == 0 || !(bytes[i - 1].is_alphanumeric() || bytes[i - 1] == '_' || bytes[i - 1] == ':');
        let base: Option<(Vec<String>, usize)> = if boundary && rest.starts_with("crate::") {
            Some((vec![], 7))
        } else if boundary && rest.starts_with("super::") {
            let mut parent = own.clone();
            parent.pop();
            Some((parent, 7))
        } else {
            None
        };
        let Some((prefix, skip)) = base else {
            i += 1;
            continue;
        };
        let (paths, end) = parse_tree(&bytes, i + skip);
        for p in paths {
            let mut full = prefix.clone();
            full.extend(p);
            out.push(full);
        }
        i = end.max(i + 1);
    }
    out
}

/// Parses `a::b::{c, d::e}` (or `{c, d}`) at `i`: the leaf paths (segments) and where it ends.
fn parse_tree(s: &[char], mut i: usize) -> (Vec<Vec<String>>, usize) {
    let mut segs: Vec<String> = Vec::new();
    loop {
        if i < s.len() && s[i] == '{' {
            i += 1;
            let mut all = Vec::new();
            loop {
                while i < s.len() && (s[i].is_whitespace() || s[i] == ',') {
                    i += 1;
                }
                if i >= s.len() || s[i] == '}' {
                    i += 1;
                    break;
                }
                let (sub, end) = parse_tree(s, i);
                for p in sub {
                    let mut full = segs.clone();
                    full.extend(p);
                    all.push(full);
                }
                // Skip `as alias` and anything else up to the next item.
                i = end.max(i + 1);
                while i < s.len() && s[i] != ',' && s[i] != '}' {
                    i += 1;
                }
            }
            return (all, i);
        }
        let start = i;
        while i < s.len() && (s[i].is_alphanumeric() || s[i] == '_') {
            i += 1;
        }
        if i > start {
            segs.push(s[start..i].iter().collect::<String>());
        }
        if i > start && i + 1 < s.len() && s[i] == ':' && s[i + 1] == ':' {
            i += 2;
            continue;
        }
        return (vec![segs], i);
    }
}

/// The longest known module that `path` starts with.
fn resolve(path: &[String], modules: &BTreeSet<String>) -> Option<String> {
    (0..=path.len()).rev().map(|n| path[..n].join("::")).find(|m| modules.contains(m))
}

/// The strongly connected components with more than one file (Tarjan).
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct T<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        let n = t.index.len();
        t.index.insert(v, n);
        t.low.insert(v, n);
        t.stack.push(v);
        t.on.insert(v);
        let g = t.g;
        for w in g.get(v).into_iter().flatten() {
            if !t.index.contains_key(w.as_str()) {
                visit(t, w);
                let lw = t.low[w.as_str()];
                let lv = t.low[v];
                t.low.insert(v, lv.min(lw));
            } else if t.on.contains(w.as_str()) {
                let iw = t.index[w.as_str()];
                let lv = t.low[v];
                t.low.insert(v, lv.min(iw));
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                comp.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                t.out.push(comp);
            }
        }
    }
    let mut t = T {
        g: graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: vec![],
        on: BTreeSet::new(),
        out: vec![],
    };
    for v in graph.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out
}

/// One crate's file graph: module → the other modules its code names.
fn file_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(src, f)).collect();
    let mut graph = BTreeMap::new();
    for f in &files {
        let m = module_of(src, f);
        let text = std::fs::read_to_string(f).unwrap();
        // A file's own `#[cfg(test)] mod tests` is part of the file, not another module, but its
        // `use super::*` is the file itself; leave it out.
        let code = code_only(&text);
        let code = match code.find("mod tests {") {
            Some(i) if code[..i].rfind("#[cfg(test)]").is_some_and(|c| i - c < 200) => &code[..i],
            _ => &code[..],
        };
        let mut edges = BTreeSet::new();
        for p in referenced_paths(&m, code) {
            if let Some(target) = resolve(&p, &modules) {
                // The root re-exports and declares; naming the root itself is not a file edge.
                if target != m && !target.is_empty() {
                    edges.insert(target);
                }
            }
        }
        graph.insert(m, edges);
    }
    graph
}

#[test]
fn no_crate_has_an_import_circle_between_its_files() {
    let mut found = Vec::new();
    let crates = workspace().join("crates");
    for e in std::fs::read_dir(&crates).unwrap().flatten() {
        let src = e.path().join("src");
        if !src.is_dir() {
            continue;
        }
        for c in circles(&file_graph(&src)) {
            found.push(format!("{}: {}", e.file_name().to_string_lossy(), c.join(" <-> ")));
        }
    }
    assert!(found.is_empty(), "import circles:\n{}", found.join("\n"));
}

#[test]
fn the_checker_finds_a_circle() {
    let g: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_owned(), BTreeSet::from(["b".to_owned()])),
        ("b".to_owned(), BTreeSet::from(["c".to_owned()])),
        ("c".to_owned(), BTreeSet::from(["a".to_owned()])),
        ("d".to_owned(), BTreeSet::from(["a".to_owned()])),
    ]
    .into_iter()
    .collect();
    assert_eq!(circles(&g), vec![vec!["a".to_owned(), "b".to_owned(), "c".to_owned()]]);
    let paths = referenced_paths(
        "x::y",
        "use crate::a::{b, c::d as e};\nuse super::z;\nlet q = crate::f::g();\nuse crate::{h, i::j};",
    );
    assert_eq!(
        paths,
        vec![
            vec!["a", "b"].into_iter().map(String::from).collect::<Vec<_>>(),
            vec!["a", "c", "d"].into_iter().map(String::from).collect(),
            vec!["x", "z"].into_iter().map(String::from).collect(),
            vec!["f", "g"].into_iter().map(String::from).collect(),
            vec!["h"].into_iter().map(String::from).collect(),
            vec!["i", "j"].into_iter().map(String::from).collect(),
        ]
    );
}

#[test]
fn server_files_stay_small_and_routes_hold_no_sql() {
    let src = workspace().join("crates/server/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut long = Vec::new();
    for f in &files {
        let n = std::fs::read_to_string(f).unwrap().lines().count();
        if n > 400 {
            long.push(format!("{} ({n} lines)", f.strip_prefix(&src).unwrap().display()));
        }
    }
    assert!(long.is_empty(), "files over 400 lines in crates/server/src: {long:?}");
    let routes = std::fs::read_to_string(src.join("http/routes.rs")).unwrap();
    for word in ["SELECT ", "INSERT ", "UPDATE ", "DELETE FROM", "sqlx::"] {
        assert!(!routes.contains(word), "http/routes.rs holds SQL ({word:?})");
    }
    let outside: Vec<String> = files
        .iter()
        .map(|f| f.strip_prefix(&src).unwrap())
        .filter(|rel| !is_storage(rel) && runs_sql(&std::fs::read_to_string(src.join(rel)).unwrap()))
        .map(|rel| rel.display().to_string())
        .collect();
    assert!(outside.is_empty(), "SQL outside the storage modules of crates/server/src: {outside:?}");
}

/// A storage module: a file named `store.rs`, or one under a `store/` directory.
fn is_storage(rel: &Path) -> bool {
    rel.file_name().is_some_and(|n| n == "store.rs")
        || rel.parent().is_some_and(|p| p.components().any(|c| c.as_os_str() == "store"))
}

/// Whether the code (comments and strings aside) runs a statement through sqlx.
fn runs_sql(text: &str) -> bool {
    let code = code_only(text);
    let imported = code
        .lines()
        .any(|l| l.trim_start().starts_with("use sqlx::") && (l.contains("query") || l.contains("raw_sql")));
    imported || code.contains("sqlx::query") || code.contains("sqlx::raw_sql")
}

#[test]
fn the_sql_rule_finds_sql_outside_storage() {
    let handler = "async fn h(c: &mut AnyConnection) {\n    sqlx::query(\"SELECT 1\").execute(c).await;\n}\n";
    let imported = "use sqlx::query;\nasync fn h() { query(\"DELETE FROM x\"); }\n";
    let docs = "/// Calls `sqlx::query` elsewhere.\nfn h() { let s = \"sqlx::query\"; }\n";
    assert!(runs_sql(handler) && runs_sql(imported) && !runs_sql(docs));
    assert!(!is_storage(Path::new("auth/session.rs")) && !is_storage(Path::new("broker/sweeper.rs")));
    assert!(is_storage(Path::new("accounts/store.rs")) && is_storage(Path::new("broker/store/hosts.rs")));
    assert!(is_storage(Path::new("store/migrate.rs")));
}
