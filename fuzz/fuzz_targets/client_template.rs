//! `blindvault inject`'s template files: `names` (the secrets a template uses) and `render`.
//! A template whose names read renders with exactly those names given (each value here is the
//! name itself), and is refused with one missing or one extra.
#![no_main]
use std::collections::BTreeMap;

use blindvault_client::template::{names, render};
use blindvault_core::secret::SecretBytes;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(template) = std::str::from_utf8(data) else { return };
    let Ok(used) = names(template) else {
        assert!(render(template, &BTreeMap::new()).is_err());
        return;
    };
    let values: BTreeMap<String, SecretBytes> =
        used.iter().map(|n| (n.clone(), SecretBytes::from_slice(n.as_bytes()))).collect();
    let out = render(template, &values).expect("a template renders with the names it uses");
    assert!(out.len() <= template.len(), "a reference is longer than its name");
    if let Some(first) = used.first() {
        let mut fewer = values.clone();
        fewer.remove(first);
        assert!(render(template, &fewer).is_err());
    }
    let mut more = values;
    more.insert("never \"a name\"".into(), SecretBytes::from_slice(b"x"));
    assert!(render(template, &more).is_err());
});
