//! Where `blindvault login` keeps a command-line token: the OS keyring (the `keyring` crate),
//! service `blindvault`, user the server URL as the client writes it (no trailing slash).

use blindvault_client::api::BrokerClient;
use zeroize::Zeroizing;

/// The keyring's service name.
pub const SERVICE: &str = "blindvault";

/// The keyring entry of `api`'s server.
pub fn entry(api: &BrokerClient) -> Result<keyring::Entry, keyring::Error> {
    keyring::Entry::new(SERVICE, api.base())
}

/// The token kept in the keyring for `api`'s server, if there is one (`None` as well when the
/// keyring cannot be used: the caller then says how to give a token).
pub fn from_keyring(api: &BrokerClient) -> Option<Zeroizing<String>> {
    entry(api).ok()?.get_password().ok().map(Zeroizing::new)
}
