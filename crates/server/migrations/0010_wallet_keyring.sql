-- A person's wallet keyring (docs/protocol.md §2.1, docs/wallet.md "More than one device"): the
-- origin passkey, whose own wallet entropy is the person's wallet (set once, kept after that
-- passkey is removed), and one wallet envelope per other passkey (HPKE ciphertext, base64url;
-- it opens only with that passkey's PRF output). An envelope goes with its passkey.
CREATE TABLE wallet_origins (user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL, created_at BIGINT NOT NULL);
CREATE TABLE wallet_envelopes (credential_id TEXT PRIMARY KEY REFERENCES credentials(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE, envelope TEXT NOT NULL,
    created_at BIGINT NOT NULL);
CREATE INDEX wallet_envelopes_user ON wallet_envelopes (user_id);
