// Device storage: sealed with the local-storage key of the key schedule.

export const slot = (credentialId, name) => `blindvault:${credentialId}:${name}`;

export const store = {
  put(keys, credentialId, name, value) {
    localStorage.setItem(slot(credentialId, name), keys.sealLocal(name, value));
  },
  /** Returns null when nothing is stored; throws when what is stored does not open. */
  get(keys, credentialId, name) {
    const v = localStorage.getItem(slot(credentialId, name));
    return v === null ? null : keys.openLocal(name, v);
  },
  has(credentialId, name) { return localStorage.getItem(slot(credentialId, name)) !== null; },
};
