//! The recovery phrase: the wallet entropy's 24 BIP-39 English words (`Wallet::mnemonic_of`),
//! for the settings page to show once, after a passkey ceremony of its own. Any BIP-39 wallet
//! given these words and an empty passphrase opens the same accounts.

use blindvault_wallet::{MnemonicPhrase, Wallet};
use serde::ser::{Serialize, SerializeStruct, Serializer};

use super::{Failure, with_entropy};

/// The phrase as the page receives it: `{"words": [24 words]}`. Zeroized on drop; `Debug`
/// shows no word. Serialized straight from the zeroizing phrase (the word list borrows it), so
/// the only other copy is the answer's JSON text, which the module frees — and the allocator
/// zeroes — before returning.
#[derive(Debug)]
pub struct RecoveryPhrase(MnemonicPhrase);

impl RecoveryPhrase {
    /// The words, space separated (for tests).
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl Serialize for RecoveryPhrase {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let words: Vec<&str> = self.0.expose().split(' ').collect();
        let mut st = s.serialize_struct("RecoveryPhrase", 1)?;
        st.serialize_field("words", &words)?;
        st.end()
    }
}

/// The recovery phrase of the wallet that the PRF output opens. Zeroes `prf`.
pub fn phrase(prf: &mut [u8]) -> Result<RecoveryPhrase, Failure> {
    with_entropy(prf, |entropy| Ok(RecoveryPhrase(Wallet::mnemonic_of(entropy))))
}
