//! The session cookie's name, shared by the server that sets it and every client that sends it.
//!
//! On an `https` origin the cookie is `__Host-bv_session` (browsers then insist on `Secure`,
//! `Path=/` and no `Domain`, so a sibling subdomain or a plain-http page cannot plant or
//! overwrite it). On plain `http://localhost` development it is `bv_session` without `Secure`
//! (Safari and WebKit drop a `Secure` cookie set over http, even on localhost).

/// The cookie's name on plain-http `localhost` development.
pub const SESSION_COOKIE: &str = "bv_session";
/// The cookie's name on an `https` origin.
pub const SESSION_COOKIE_HTTPS: &str = "__Host-bv_session";

/// `true` when `origin` (`https://vault.example.com`, `http://localhost:8080`) is served over
/// https (the scheme compared without regard to case).
pub fn origin_is_https(origin: &str) -> bool {
    origin.get(..8).is_some_and(|s| s.eq_ignore_ascii_case("https://"))
}

/// The session cookie's name for a deployment whose origin is `origin`.
pub fn session_cookie_name(origin: &str) -> &'static str {
    if origin_is_https(origin) { SESSION_COOKIE_HTTPS } else { SESSION_COOKIE }
}

/// The token in `text` if it is `NAME=TOKEN` for either name of the session cookie, or `text`
/// itself (a session file may hold either form).
pub fn strip_session_cookie_name(text: &str) -> &str {
    [SESSION_COOKIE_HTTPS, SESSION_COOKIE]
        .iter()
        .find_map(|name| text.strip_prefix(name).and_then(|r| r.strip_prefix('=')))
        .unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_scheme() {
        assert_eq!(session_cookie_name("https://vault.example.com"), "__Host-bv_session");
        assert_eq!(session_cookie_name("HTTPS://vault.example.com"), "__Host-bv_session");
        assert_eq!(session_cookie_name("http://localhost:8080"), "bv_session");
        assert_eq!(strip_session_cookie_name("bv_session=a.b.c"), "a.b.c");
        assert_eq!(strip_session_cookie_name("__Host-bv_session=a.b.c"), "a.b.c");
        assert_eq!(strip_session_cookie_name("a.b.c"), "a.b.c");
    }
}
