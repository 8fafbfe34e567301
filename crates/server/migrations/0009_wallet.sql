-- The wallet's server side (docs/wallet.md, "The gateway"): the admin's RPC endpoints (one per
-- chain and network; the credential is write-only: no reply carries it), the default token list,
-- and the public addresses people publish for watch-only display. No private key, seed or
-- signature material is ever stored.
CREATE TABLE wallet_endpoints (chain TEXT NOT NULL, network TEXT NOT NULL, chain_id BIGINT,
    url TEXT NOT NULL, credential TEXT, enabled BIGINT NOT NULL, updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL, PRIMARY KEY (chain, network));
CREATE TABLE wallet_tokens (id TEXT PRIMARY KEY, chain TEXT NOT NULL, network TEXT NOT NULL,
    contract TEXT NOT NULL, symbol TEXT NOT NULL, decimals BIGINT NOT NULL, created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL, UNIQUE (chain, network, contract));
CREATE TABLE wallet_addresses (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    chain TEXT NOT NULL, network TEXT NOT NULL, path TEXT NOT NULL, address TEXT NOT NULL, label TEXT,
    created_at BIGINT NOT NULL, UNIQUE (user_id, chain, network, path));
CREATE INDEX wallet_addresses_address ON wallet_addresses (address);
