//! `inject`: fills a template with secrets. The only syntax is `{{ blindvault "NAME" }}`
//! (spaces inside the braces optional); `{{{{` is a literal `{{`. Every NAME must be given;
//! a NAME given but not used is an error too (it usually means a typo).

use std::collections::BTreeMap;

use blindvault_core::secret::SecretBytes;
use zeroize::Zeroizing;

use crate::ClientError;

/// Names used by a template, in order of first use.
pub fn names(template: &str) -> Result<Vec<String>, ClientError> {
    let mut out = Vec::new();
    walk(template, |piece| {
        if let Piece::Ref(name) = piece
            && !out.iter().any(|n| n == name)
        {
            out.push(name.to_string());
        }
        Ok(())
    })?;
    Ok(out)
}

/// Renders a template.
pub fn render(template: &str, values: &BTreeMap<String, SecretBytes>) -> Result<SecretBytes, ClientError> {
    let mut out = Zeroizing::new(Vec::with_capacity(template.len()));
    let mut used = std::collections::BTreeSet::new();
    walk(template, |piece| {
        match piece {
            Piece::Text(t) => out.extend_from_slice(t.as_bytes()),
            Piece::Ref(name) => {
                let v = values
                    .get(name)
                    .ok_or_else(|| ClientError::Template(format!("no secret given for {name:?}")))?;
                out.extend_from_slice(v.expose());
                used.insert(name.to_string());
            }
        }
        Ok(())
    })?;
    if let Some(unused) = values.keys().find(|k| !used.contains(*k)) {
        return Err(ClientError::Template(format!("{unused:?} is given but the template never uses it")));
    }
    Ok(SecretBytes::from_slice(&out))
}

enum Piece<'a> {
    Text(&'a str),
    Ref(&'a str),
}

fn walk<'a>(
    mut s: &'a str,
    mut f: impl FnMut(Piece<'a>) -> Result<(), ClientError>,
) -> Result<(), ClientError> {
    let mut line = 1;
    while let Some(start) = s.find("{{") {
        let (text, rest) = s.split_at(start);
        f(Piece::Text(text))?;
        line += text.matches('\n').count();
        if let Some(after) = rest.strip_prefix("{{{{") {
            f(Piece::Text("{{"))?;
            s = after;
            continue;
        }
        let end = rest
            .find("}}")
            .ok_or_else(|| ClientError::Template(format!("line {line}: `{{{{` without a closing `}}}}`")))?;
        let inner = rest.get(2..end).unwrap_or("").trim();
        let name = inner
            .strip_prefix("blindvault")
            .map(str::trim)
            .and_then(|q| q.strip_prefix('"'))
            .and_then(|q| q.strip_suffix('"'))
            .filter(|n| !n.is_empty() && !n.contains('"'))
            .ok_or_else(|| {
                ClientError::Template(format!(
                    "line {line}: expected {{{{ blindvault \"NAME\" }}}}, found {{{{{inner}}}}}"
                ))
            })?;
        f(Piece::Ref(name))?;
        s = rest.get(end + 2..).unwrap_or("");
    }
    f(Piece::Text(s))
}
