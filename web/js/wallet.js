// The bridge to the wallet's WebAssembly bundle (../wallet-pkg, built from crates/wallet-wasm by
// scripts/build-web.sh): derivation, addresses, exact amounts and QR codes run there. Loaded on
// first use (a dynamic import), so that only the wallet page ever loads wallet code.
//
// Every function that takes a PRF output zeroes it (in WebAssembly and in the caller's
// Uint8Array) and keeps nothing: the module holds no key, seed or mnemonic between calls.

let loaded = null;

/** The wallet module, loaded and initialised once. */
export function walletModule() {
  if (!loaded) {
    loaded = import('../wallet-pkg/blindvault_wallet_wasm.js').then(async (m) => {
      await m.default();
      return m;
    });
    loaded.catch(() => { loaded = null; });
  }
  return loaded;
}

/** The chains the wallet shows, in the module's order, as a person reads them. */
export const CHAINS = {
  evm: { name: 'Ethereum', detail: 'and every EVM network (same address)', symbol: 'ETH', decimals: 18 },
  bitcoin: { name: 'Bitcoin', detail: 'native SegWit (BIP-84)', symbol: 'BTC', decimals: 8 },
  solana: { name: 'Solana', detail: '', symbol: 'SOL', decimals: 9 },
  tron: { name: 'TRON', detail: '', symbol: 'TRX', decimals: 6 },
  ton: { name: 'TON', detail: 'wallet v4R2', symbol: 'TON', decimals: 9 },
};
