//! ERC-20 reads for the wallet pages: the `eth_call` data of `balanceOf(address)`, `symbol()`
//! and `decimals()`, and the strict decoding of what the contract returns — all ABI work by
//! alloy's `sol!` (no hand-written encoding). A token's symbol and decimals shown on a send's
//! confirmation come from these reads of the contract itself, never from what a person typed.

use alloy_primitives::{Address, FixedBytes, U256};
use alloy_sol_types::SolCall;

use super::{CHAIN, IERC20};
use crate::error::{Error, Result};

alloy_sol_types::sol! {
    /// The ERC-20 views the pages read.
    interface IERC20Read {
        /// The balance of `owner`, in base units.
        function balanceOf(address owner) external view returns (uint256);
        /// How many decimals a base unit has.
        function decimals() external view returns (uint8);
        /// The ticker (a `string`, as ERC-20 specifies).
        function symbol() external view returns (string);
    }
    /// Tokens from before ERC-20 was final (MKR, SAI) return the symbol as `bytes32`.
    interface IERC20Bytes32Symbol {
        /// The ticker, zero-padded.
        function symbol() external view returns (bytes32);
    }
}

/// The longest symbol shown (longer ones are refused: a screen must not be flooded).
pub const MAX_SYMBOL_CHARS: usize = 32;

/// The `eth_call` data of `balanceOf(owner)` (selector `70a08231`).
pub fn balance_of_call(owner: Address) -> Vec<u8> {
    IERC20Read::balanceOfCall { owner }.abi_encode()
}

/// The `eth_call` data of `decimals()` (selector `313ce567`).
pub fn decimals_call() -> Vec<u8> {
    IERC20Read::decimalsCall {}.abi_encode()
}

/// The `eth_call` data of `symbol()` (selector `95d89b41`).
pub fn symbol_call() -> Vec<u8> {
    IERC20Read::symbolCall {}.abi_encode()
}

/// The data of `transfer(to, amount)` (selector `a9059cbb`): what a token send calls, for the
/// node's gas estimate (the payload to sign is built by [`super::Eip1559Request`]).
pub fn transfer_call(to: Address, amount: U256) -> Vec<u8> {
    IERC20::transferCall { to, amount }.abi_encode()
}

fn empty(ret: &[u8], what: &str) -> Result<()> {
    if ret.is_empty() {
        return Err(Error::tx(CHAIN, format!("no {what}: the address holds no ERC-20 token contract")));
    }
    Ok(())
}

/// The balance a `balanceOf` call returned (exactly one 32-byte word).
pub fn decode_balance(ret: &[u8]) -> Result<U256> {
    empty(ret, "balance")?;
    if ret.len() != 32 {
        return Err(Error::tx(CHAIN, "the balance is not one 32-byte word"));
    }
    IERC20Read::balanceOfCall::abi_decode_returns_validate(ret)
        .map_err(|e| Error::tx(CHAIN, format!("the balance does not decode: {e}")))
}

/// The decimals a `decimals()` call returned: one word holding a `uint8` (a larger value, or
/// more than 77 decimals — more than a 256-bit amount has digits — is refused).
pub fn decode_decimals(ret: &[u8]) -> Result<u8> {
    empty(ret, "decimals")?;
    if ret.len() != 32 {
        return Err(Error::tx(CHAIN, "the decimals are not one 32-byte word"));
    }
    let d = IERC20Read::decimalsCall::abi_decode_returns_validate(ret)
        .map_err(|_| Error::tx(CHAIN, "the decimals are not a uint8"))?;
    if d > 77 {
        return Err(Error::tx(CHAIN, format!("{d} decimals is more than a 256-bit amount has digits")));
    }
    Ok(d)
}

/// The symbol a `symbol()` call returned: an ABI `string` (canonical encoding only), or a
/// zero-padded `bytes32` as early tokens return it. 1 to [`MAX_SYMBOL_CHARS`] characters, no
/// control characters, no surrounding spaces: anything else is refused, not cleaned up.
pub fn decode_symbol(ret: &[u8]) -> Result<String> {
    empty(ret, "symbol")?;
    let text = if ret.len() == 32 {
        let word = IERC20Bytes32Symbol::symbolCall::abi_decode_returns_validate(ret)
            .map_err(|e| Error::tx(CHAIN, format!("the symbol does not decode: {e}")))?;
        bytes32_text(&word)?
    } else {
        let s = IERC20Read::symbolCall::abi_decode_returns_validate(ret)
            .map_err(|e| Error::tx(CHAIN, format!("the symbol does not decode: {e}")))?;
        if IERC20Read::symbolCall::abi_encode_returns(&s) != ret {
            return Err(Error::tx(CHAIN, "the symbol is not in the canonical ABI encoding"));
        }
        s
    };
    let n = text.chars().count();
    if n == 0 || n > MAX_SYMBOL_CHARS {
        return Err(Error::tx(CHAIN, format!("a token symbol must have 1 to {MAX_SYMBOL_CHARS} characters")));
    }
    if text.chars().any(char::is_control) || text.trim() != text {
        return Err(Error::tx(CHAIN, "the token symbol has control characters or surrounding spaces"));
    }
    Ok(text)
}

fn bytes32_text(word: &FixedBytes<32>) -> Result<String> {
    let len = word.iter().position(|b| *b == 0).unwrap_or(32);
    let (text, pad) = word.split_at(len);
    if pad.iter().any(|b| *b != 0) {
        return Err(Error::tx(CHAIN, "the bytes32 symbol has bytes after its end"));
    }
    String::from_utf8(text.to_vec()).map_err(|_| Error::tx(CHAIN, "the bytes32 symbol is not text"))
}
