//! Text that people read: names, labels and messages one party shows for another.

/// Characters that change how the text around them is shown without being seen themselves:
/// bidirectional marks, embeddings, overrides and isolates (a name stored as "eve\u{202E}ecila"
/// reads as "eve" and then "alice" reversed), zero-width characters, invisible operators and the
/// byte-order mark. The server refuses them in names; the CLI prints them (and control
/// characters) inert.
pub fn hides_or_reorders(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}' | '\u{FEFF}'
    )
}

/// `s` for a screen that decides what runs (a request's purpose): every character outside
/// printable ASCII (U+0020–U+007E) becomes a visible `\u{XXXX}` escape and a backslash becomes
/// `\\`, so no invisible, look-alike, line-breaking or right-to-left character — and no text
/// that only looks like an escape — can make one command line read as another.
pub fn ascii_inert(s: &str) -> alloc::string::String {
    use core::fmt::Write as _;
    let mut out = alloc::string::String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            _ => {
                let _ = write!(out, "\\u{{{:04X}}}", u32::from(c));
            }
        }
    }
    out
}

/// One argument as a POSIX shell would need it typed, made inert ([`ascii_inert`]): quoted
/// unless it is plain.
pub fn shell_word(a: &str) -> alloc::string::String {
    let plain = !a.is_empty() && a.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b));
    let a = ascii_inert(a);
    if plain { a } else { alloc::format!("'{}'", a.replace('\'', "'\\''")) }
}

/// A command line as a POSIX shell would need it typed, every argument made inert: what an
/// approver is shown of a request's purpose.
pub fn shell_line(args: &[alloc::string::String]) -> alloc::string::String {
    args.iter().map(|a| shell_word(a)).collect::<alloc::vec::Vec<_>>().join(" ")
}

/// The characters a name may not contain (user ids and host names in signed objects, and the
/// server's user, display and passkey names): the control characters (general category Cc,
/// U+0000–U+001F and U+007F–U+009F) and those of [`hides_or_reorders`]. docs/protocol.md §4
/// lists the same code points.
pub fn refused_in_name(c: char) -> bool {
    c.is_control() || hides_or_reorders(c)
}

#[cfg(test)]
mod tests {
    use super::{ascii_inert, hides_or_reorders, refused_in_name};

    #[test]
    fn ascii_inert_leaves_only_printable_ascii() {
        // A tag character, a soft hyphen, a Cyrillic o, a line separator, Hebrew, and a fake escape.
        let s = "backup\u{E0001} a\u{00AD}b \u{043E} x\u{2028}y \u{05E9} \\u{41}";
        assert_eq!(ascii_inert(s), "backup\\u{E0001} a\\u{00AD}b \\u{043E} x\\u{2028}y \\u{05E9} \\\\u{41}");
        assert!(ascii_inert(s).chars().all(|c| (' '..='~').contains(&c)));
        assert_eq!(ascii_inert("./migrate.sh --apply"), "./migrate.sh --apply");
    }

    #[test]
    fn the_refused_set_is_exactly_the_documented_code_points() {
        let documented = |c: u32| {
            matches!(c, 0x00..=0x1F | 0x7F..=0x9F | 0x061C | 0x200B..=0x200F | 0x202A..=0x202E
                | 0x2060..=0x2064 | 0x2066..=0x2069 | 0xFEFF)
        };
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            assert_eq!(refused_in_name(c), documented(c as u32), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn overrides_and_zero_width_characters_are_caught_and_letters_are_not() {
        for c in ['\u{202E}', '\u{200B}', '\u{2066}', '\u{FEFF}', '\u{061C}', '\u{200F}'] {
            assert!(hides_or_reorders(c), "{c:?}");
        }
        for c in ['a', 'é', 'ß', 'ا', '中', ' ', '-'] {
            assert!(!hides_or_reorders(c), "{c:?}");
        }
    }
}
