// blindvault web app. JavaScript drives WebAuthn, the DOM and fetch; every key derivation,
// verification, envelope opening and sealing runs in the Rust core compiled to WebAssembly
// (./pkg, built from crates/wasm). PRF output never leaves this page: it is turned into keys in
// WebAssembly and those are freed right after use.
import init, {
  prfSalt, OrgKey, DeviceKeys, verifyRequest, acceptRevocations, verifyRevocations, openLabel, approve, ApproveBench,
} from './pkg/blindvault_wasm.js';

// ---- small helpers ----------------------------------------------------------------------------

const $ = (sel, root = document) => root.querySelector(sel);

/** Builds an element: h('p.muted', {…attrs}, children…). Text is always set as text. */
function h(tag, attrs = {}, ...kids) {
  const [name, ...classes] = tag.split('.');
  const el = document.createElement(name || 'div');
  if (classes.length) el.className = classes.join(' ');
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids.flat()) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

const b64u = {
  enc(buf) {
    const bytes = buf instanceof Uint8Array ? buf : new Uint8Array(buf);
    let s = '';
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  },
  dec(s) {
    const t = s.replace(/-/g, '+').replace(/_/g, '/');
    const bin = atob(t + '='.repeat((4 - (t.length % 4)) % 4));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  },
};

const when = (secs) => (secs ? new Date(secs * 1000).toLocaleString() : '—');
const nowSecs = () => Date.now() / 1000;
function inWords(secs) {
  const s = Math.round(secs);
  if (s <= 0) return 'now';
  if (s < 90) return `${s} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} days`;
}
/** How long ago Unix second `t` was, in words. */
const ago = (t) => (nowSecs() - t < 5 ? 'just now' : `${inWords(nowSecs() - t)} ago`);
const short = (id) => (id && id.length > 14 ? `${id.slice(0, 8)}…${id.slice(-4)}` : id);

class ApiError extends Error {
  constructor(status, code, message, retryAfter = null) {
    super(message);
    this.status = status;
    this.code = code;
    /** Seconds the server asked us to wait (429), from `Retry-After`. */
    this.retryAfter = retryAfter;
  }
}

async function api(method, path, body, headers = {}) {
  const init = { method, credentials: 'same-origin', headers: { ...headers } };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let r;
  try {
    r = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network', 'The server cannot be reached. Check your connection and retry.');
  }
  let data = null;
  try { data = await r.json(); } catch { /* empty body */ }
  if (!r.ok) {
    const e = data && data.error;
    const wait = Number.parseInt(r.headers.get('retry-after') || '', 10);
    throw new ApiError(r.status, e ? e.code : `http_${r.status}`, e ? e.message : r.statusText,
      Number.isFinite(wait) && wait >= 0 ? wait : null);
  }
  return data;
}

// ---- WebAuthn with PRF ------------------------------------------------------------------------

/** The message shown whenever a passkey gives no PRF output. blindvault never falls back. */
const PRF_UNSUPPORTED =
  'This passkey cannot evaluate the PRF extension, so blindvault cannot derive your keys from it. ' +
  'blindvault never falls back to a weaker key.';
const PRF_PLATFORMS = [
  'iPhone, iPad or Mac with iCloud Keychain (iOS / macOS 18 or later, Safari or Chrome)',
  'Android with Google Password Manager (Chrome)',
  'Chrome or Edge on Windows, macOS or Linux, with passkeys saved in Google Password Manager',
  'A FIDO2 security key with hmac-secret (for example YubiKey 5 series) in Chrome, Edge or Firefox',
];

class PrfUnsupported extends Error {
  constructor() { super(PRF_UNSUPPORTED); this.code = 'prf_unsupported'; }
}

function requireWebAuthn() {
  if (!window.PublicKeyCredential || !navigator.credentials) {
    throw new ApiError(0, 'no_webauthn', 'This browser does not support passkeys (WebAuthn). Use a current Chrome, Edge, Safari or Firefox.');
  }
}

// The PRF salt comes from the core, never from the server.
const prfInput = () => ({ prf: { eval: { first: prfSalt() } } });

async function createCredential(options) {
  requireWebAuthn();
  const pk = structuredClone(options.publicKey);
  pk.challenge = b64u.dec(pk.challenge);
  pk.user = { ...pk.user, id: b64u.dec(pk.user.id) };
  pk.excludeCredentials = (pk.excludeCredentials || []).map((c) => ({ ...c, id: b64u.dec(c.id) }));
  pk.extensions = prfInput();
  // User verification is the page's rule, not the server's: a security key's PRF output depends
  // on whether it verified the person, so "discouraged" from a lying server would enrol a
  // touch-only key.
  pk.authenticatorSelection = { ...(pk.authenticatorSelection || {}), userVerification: 'required' };
  const cred = await navigator.credentials.create({ publicKey: pk });
  const r = cred.response;
  const json = {
    id: cred.id,
    rawId: b64u.enc(cred.rawId),
    type: cred.type,
    response: {
      attestationObject: b64u.enc(r.attestationObject),
      clientDataJSON: b64u.enc(r.clientDataJSON),
      transports: typeof r.getTransports === 'function' ? r.getTransports() : [],
    },
    extensions: {},
  };
  const prf = cred.getClientExtensionResults().prf;
  return {
    json, rawId: new Uint8Array(cred.rawId), prfEnabled: !!(prf && prf.enabled),
    prf: prf && prf.results && prf.results.first ? new Uint8Array(prf.results.first) : null,
  };
}

/** An assertion, with the PRF extension when `prf` (only where a key is needed). `only` limits
 * it to one credential (raw id). Returns the JSON for the server (never any PRF output) and the
 * PRF output separately (or null). */
async function getAssertion(options, { prf: wantPrf = true, only = null } = {}) {
  requireWebAuthn();
  const pk = structuredClone(options.publicKey);
  pk.challenge = b64u.dec(pk.challenge);
  pk.allowCredentials = only
    ? [{ type: 'public-key', id: only }]
    : (pk.allowCredentials || []).map((c) => ({ ...c, id: b64u.dec(c.id) }));
  if (wantPrf) pk.extensions = prfInput();
  else delete pk.extensions;
  pk.userVerification = 'required';
  const cred = await navigator.credentials.get({ publicKey: pk });
  const r = cred.response;
  // Flags byte of authenticatorData (after the 32-byte RP id hash): UV is bit 2. No key is
  // derived from an assertion that did not verify the person.
  if (!(new Uint8Array(r.authenticatorData)[32] & 0x04)) {
    throw new ApiError(0, 'uv_missing', 'Your passkey did not verify you (PIN, fingerprint or face). Try again, and set up a PIN or biometric on the security key if it has none.');
  }
  const json = {
    id: cred.id,
    rawId: b64u.enc(cred.rawId),
    type: cred.type,
    response: {
      authenticatorData: b64u.enc(r.authenticatorData),
      clientDataJSON: b64u.enc(r.clientDataJSON),
      signature: b64u.enc(r.signature),
      userHandle: r.userHandle ? b64u.enc(r.userHandle) : null,
    },
    extensions: {},
  };
  const prf = cred.getClientExtensionResults().prf;
  const out = wantPrf && prf && prf.results && prf.results.first ? new Uint8Array(prf.results.first) : null;
  return { json, credentialId: cred.id, rawId: new Uint8Array(cred.rawId), prf: out };
}

// ---- step-up: a fresh passkey assertion bound to one destructive action -----------------------

/** What each step-up allows, in words. */
const STEP_UP_WORDS = {
  'role.set': 'Change a person\'s role',
  'user.delete': 'Delete a person\'s account',
  'passkey.delete': 'Remove one of your passkeys',
  'org.replace': 'Replace the organisation key (every approver must enrol again)',
  'entry.delete': 'Delete a secret (every version)',
  'approver.remove': 'Remove an approver device',
  'host.revoke': 'Revoke a host certificate',
  'invite.create': 'Make an invite code that signs someone up as an admin',
};

/** The action and target of a step-up, as a person reads them. */
function stepUpFacts(action, target) {
  return h('dl.facts', { 'data-testid': 'step-up-facts' },
    h('dt', { text: 'Action' }), h('dd', {}, h('strong', { text: STEP_UP_WORDS[action] || action }), ' ', h('code', { text: action })),
    h('dt', { text: 'Target' }), h('dd', {}, h('code.fp', { 'data-testid': 'step-up-target', text: target })));
}

/** Confirms step-up `s` (from start or status) with a passkey of this account. */
async function confirmStepUp(s) {
  const a = await getAssertion(s.options, { prf: false });
  await api('POST', `/api/step-up/${encodeURIComponent(s.id)}/confirm`, { credential: a.json });
}

/** Runs a destructive call behind a step-up: the server binds the passkey challenge to `action`
 * and `target` (the caller has shown both to the person), the passkey confirms, and the call
 * carries the confirmed step-up. */
async function stepped(method, path, body, action, target) {
  const s = await api('POST', '/api/step-up/start', { action, target });
  await confirmStepUp(s);
  return api(method, path, body, { 'x-blindvault-step-up': s.id });
}

/** `#/confirm/<id>`: the page a command-line step-up links to. Shows what is being confirmed,
 * then asks for the passkey. */
async function confirmPage(id) {
  const out = h('div');
  const s = await api('GET', `/api/step-up/${encodeURIComponent(id)}`);
  const body = h('div.card.stack', { 'data-testid': 'step-up' },
    h('p', { text: 'A command asks to do this in your name. Confirm only if you started it just now and this is what you meant:' }),
    stepUpFacts(s.action, s.target),
    h('p.small.muted', { text: `Until ${when(s.expires_at)}.` }));
  if (s.status === 'pending') {
    body.append(h('div.row', {},
      action('Confirm with my passkey', 'primary', async () => {
        await confirmStepUp(s);
        body.replaceChildren(notice('ok', 'Confirmed', 'Go back to your terminal: the command goes on by itself.'), stepUpFacts(s.action, s.target));
      }, { out, busy: 'Waiting for your passkey…', testid: 'step-up-confirm' }),
      action('Cancel', '', async () => {
        await api('POST', `/api/step-up/${encodeURIComponent(s.id)}/cancel`, {});
        body.replaceChildren(notice('warn', 'Cancelled', 'Nothing was done; the command stops.'), stepUpFacts(s.action, s.target));
      }, { out, testid: 'step-up-cancel' })));
  } else {
    const said = { confirmed: ['ok', 'Already confirmed', 'The command goes on by itself.'], used: ['ok', 'Done', 'This confirmation was used.'],
      cancelled: ['warn', 'Cancelled', 'Nothing was done.'], expired: ['warn', 'Expired', 'Run the command again.'],
      failed: ['bad', 'Refused', 'The passkey answer was refused. Run the command again.'] }[s.status] || ['warn', s.status, ''];
    body.prepend(notice(...said));
  }
  page('Confirm an action', out, body);
}

/** Overwrites a PRF output (or any byte array) held by JavaScript. */
const wipe = (a) => { if (a) a.fill(0); };

/** Runs the key schedule on a PRF output, hands the keys to `use`, frees them after. */
async function withKeys(prf, use) {
  if (!prf || prf.length !== 32) { wipe(prf); throw new PrfUnsupported(); }
  const keys = new DeviceKeys(prf); // zeroes `prf` (WebAssembly and JavaScript copies)
  try { return await use(keys); } finally { keys.free(); }
}

// ---- device storage: sealed with the local-storage key of the key schedule -------------------

const slot = (credentialId, name) => `blindvault:${credentialId}:${name}`;
const store = {
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

// ---- state, navigation ------------------------------------------------------------------------

const state = { me: null, events: null };
let renderSeq = 0;

function setBanner(kind, title, text) {
  const b = $('#banner');
  b.replaceChildren();
  if (kind) b.append(h(`div.notice.${kind}`, {}, h('strong', { text: title }), text ? h('span', { text }) : null));
}

function notice(kind, title, text, ...more) {
  return h(`div.notice.${kind}`, { role: kind === 'bad' ? 'alert' : 'status' },
    h('strong', { text: title }), text ? h('div', { text }) : null, ...more);
}

function errorNotice(e) {
  if (e instanceof PrfUnsupported || (e && e.code === 'prf_unsupported')) return prfNotice();
  if (e && e.name === 'NotAllowedError') {
    return notice('warn', 'The passkey prompt was closed', 'Nothing was changed. Try again when you are ready.');
  }
  if (e && e.code === 'rate_limited') {
    const when = e.retryAfter ? `in ${inWords(Math.max(1, e.retryAfter))}` : 'in a minute';
    return h('div.notice.warn', { role: 'alert', 'data-testid': 'rate-limited' },
      h('strong', { text: 'Too many attempts' }),
      h('div', { text: `${sentence(e.message)} Nothing was changed. Try again ${when}.` }));
  }
  return notice('bad', 'That did not work', sentence(e && e.message ? e.message : String(e)));
}

/** Server and core messages are lower-case fragments; show them as sentences. */
function sentence(m) {
  const t = String(m).trim();
  if (!t) return t;
  const s = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

function prfNotice() {
  return h('div.notice.bad', { role: 'alert', 'data-testid': 'prf-unsupported' },
    h('strong', { text: 'This passkey cannot protect secrets here' }),
    h('p', { text: PRF_UNSUPPORTED }),
    h('p', { text: 'Passkeys that work:' }),
    h('ul', {}, PRF_PLATFORMS.map((p) => h('li', { text: p }))),
  );
}

/** Who issued the host's certificate: the person the org-signed certificate names (by user id),
 * shown by the name the server gives that id (the name only if the ids agree), or "you". A
 * format-1 certificate names no issuer. */
function issuerFacts(verified, view) {
  if (!verified.issuer) {
    return [h('dt', { text: 'Certificate issued by' }), h('dd', { 'data-testid': 'cert-issuer', text: 'not named (an older certificate)' })];
  }
  const mine = state.me && state.me.user && state.me.user.id === verified.issuer;
  const name = mine ? 'you' : (view.issuer === verified.issuer && view.issuer_name) || `user ${verified.issuer}`;
  const alone = verified.self_approval ? ' (may approve alone)' : ' (another person must approve too)';
  return [h('dt', { text: 'Certificate issued by' }), h('dd', { 'data-testid': 'cert-issuer', text: `${name}${alone}` })];
}

async function loadMe() {
  try {
    state.me = await api('GET', '/api/me');
  } catch (e) {
    if (e.status === 401) state.me = null;
    else throw e;
  }
  return state.me;
}

const role = () => (state.me ? state.me.user.role : null);
const isAdmin = () => role() === 'admin';

function renderNav() {
  const route = location.hash.split('/')[1] || '';
  const links = state.me
    ? [['requests', 'Requests'], ['account', 'Account'], ...(isAdmin() ? [['admin', 'Admin']] : [])]
    : [['signin', 'Sign in'], ['signup', 'Create account']];
  $('#nav').replaceChildren(...links.map(([r, t]) =>
    h('a', { href: `#/${r}`, 'aria-current': route === r ? 'page' : false, text: t })));
}

function page(title, ...kids) {
  document.title = `${title} · blindvault`;
  const main = $('#main');
  main.replaceChildren(h('h1', { text: title }), ...kids);
  return main;
}

/** A button that runs `fn`, disables itself meanwhile and shows `busy` text. Errors land in `out`. */
function action(label, cls, fn, { busy = 'Working…', out = null, testid } = {}) {
  const b = h(`button${cls ? '.' + cls.split(' ').join('.') : ''}`, { type: 'button', 'data-testid': testid, text: label });
  b.addEventListener('click', async () => {
    const old = b.textContent;
    b.disabled = true;
    b.textContent = busy;
    if (out) out.replaceChildren();
    try {
      await fn();
    } catch (e) {
      (out || $('#main')).prepend(errorNotice(e));
    } finally {
      if (b.isConnected) { b.disabled = false; b.textContent = old; }
    }
  });
  return b;
}

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

/** Where to go after signing in (set when a signed-out person opened a page); used once. */
function takeNext() {
  const n = sessionStorage.getItem('blindvault:next');
  sessionStorage.removeItem('blindvault:next');
  return n;
}

// ---- pages: sign up, sign in, setup ------------------------------------------------------------

/** After sign-up: a real PRF evaluation (a sign-in with the new passkey) proves this passkey
 * can derive keys. Registration alone only says whether the authenticator *claims* support. */
async function checkPrf(created) {
  if (created.prf && created.prf.length === 32) { wipe(created.prf); return true; }
  if (!created.prfEnabled) return false;
  const start = await api('POST', '/api/login/start');
  // Only the passkey just created may answer: the check is about that one.
  const a = await getAssertion(start.options, { only: created.rawId });
  const ok = !!a.prf && a.prf.length === 32;
  wipe(a.prf);
  await api('POST', '/api/login/finish', { ceremony_id: start.ceremony_id, credential: a.json });
  return ok;
}

function signupPage(next, code) {
  const out = h('div');
  const name = h('input', { id: 'name', name: 'username', autocomplete: 'username webauthn', required: true, maxlength: 64 });
  const display = h('input', { id: 'display', name: 'display', autocomplete: 'name', maxlength: 64 });
  const invite = h('input', { id: 'invite', name: 'invite', autocomplete: 'one-time-code', required: true, maxlength: 64, spellcheck: 'false', value: code || '' });
  const form = h('form.card.stack', { novalidate: true },
    out,
    h('div', {}, h('label', { for: 'invite', text: 'Invite code' }), invite,
      h('div.hint', { text: code ? 'From your invite link. It works once.' : 'Accounts here are by invitation: use the code from your admin\'s invite link. Setting up a new server? Use the setup code it printed when it first started.' })),
    h('div', {}, h('label', { for: 'name', text: 'User name' }), name,
      h('div.hint', { text: 'What your admin sees. 1 to 64 characters.' })),
    h('div', {}, h('label', { for: 'display', text: 'Display name (optional)' }), display),
    h('button.primary.big', { type: 'submit', 'data-testid': 'signup', text: 'Create account with a passkey' }),
    h('p.small.muted', { text: 'Your device asks for your fingerprint, face or security key. blindvault then checks, with one more touch, that this passkey can derive keys (the WebAuthn PRF extension).' }),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    out.replaceChildren();
    const btn = $('button[type=submit]', form);
    btn.disabled = true;
    let created = null;
    try {
      const body = { name: name.value.trim(), invite: invite.value.trim() };
      if (display.value.trim()) body.display_name = display.value.trim();
      const start = await api('POST', '/api/register/start', body);
      created = await createCredential(start.options);
      await api('POST', '/api/register/finish', {
        ceremony_id: start.ceremony_id, credential: created.json, passkey_name: 'first passkey',
      });
      await loadMe();
      renderNav();
      if (!(await checkPrf(created))) {
        page('Account created — but this passkey cannot protect secrets', prfNotice(),
          h('p', { text: 'You are signed in. To approve requests, add a passkey that supports PRF on a device from the list above (Account → Passkeys → Add a passkey).' }),
          h('a.button', { href: '#/account', text: 'Go to my account' }));
        return;
      }
      go(takeNext() || '#/');
    } catch (e) {
      if (created && state.me) {
        out.append(notice('warn', 'Your account was created, but the passkey check did not finish',
          'Sign in again to check that this passkey can protect secrets (it needs the PRF extension).'));
        if (e && e.code === 'rate_limited') out.append(errorNotice(e));
      } else {
        out.append(errorNotice(e));
      }
    } finally {
      if (created) wipe(created.prf);
      btn.disabled = false;
    }
  });
  page('Create your account', form,
    h('p.center.muted', {}, 'Already have one? ', h('a', { href: '#/signin', text: 'Sign in' })));
  name.focus();
}

async function signIn() {
  const start = await api('POST', '/api/login/start');
  const a = await getAssertion(start.options, { prf: false });
  await api('POST', '/api/login/finish', { ceremony_id: start.ceremony_id, credential: a.json });
  await loadMe();
  renderNav();
}

function signinPage(next) {
  const out = h('div');
  page('Sign in',
    h('div.card.stack', {}, out,
      h('p', { text: 'Use the passkey you created for this blindvault instance.' }),
      action('Sign in with a passkey', 'primary big', async () => { await signIn(); go(takeNext() || next || '#/'); },
        { out, testid: 'signin', busy: 'Waiting for your passkey…' })),
    h('p.center.muted', {}, 'New here? ', h('a', { href: '#/signup', text: 'Create an account' })));
}

function setupPage() {
  if (!state.me) {
    sessionStorage.setItem('blindvault:next', '#/setup');
    return page('Claim this instance',
      h('div.card', {}, h('p', { text: 'The person who started the server holds a one-time setup code. Create your account first; then enter the code to become the first admin.' }),
        h('a.button.primary', { href: '#/signup', text: 'Create account' }), ' ',
        h('a.button', { href: '#/signin', text: 'Sign in' })));
  }
  const out = h('div');
  const code = h('input', { id: 'code', autocomplete: 'one-time-code', spellcheck: 'false', maxlength: 64 });
  const form = h('form.card.stack', {}, out,
    h('div', {}, h('label', { for: 'code', text: 'Setup code' }), code,
      h('div.hint', {}, h('code', { text: 'blindvault serve' }), ' printed it when the server first started. It works once.')),
    h('button.primary.big', { type: 'submit', 'data-testid': 'claim', text: 'Become the first admin' }));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    out.replaceChildren();
    try {
      await api('POST', '/api/setup/claim', { code: code.value.trim() });
      await loadMe();
      renderNav();
      page('You are the admin', notice('ok', 'This instance is claimed', 'Nobody else can use the setup code now.'),
        h('div.card.stack', {},
          h('h2', { text: 'Next steps' }),
          h('ol', {},
            h('li', {}, 'On your own computer: ', h('code', { text: 'blindvault org init' }), '.'),
            h('li', {}, 'Get a command-line session from ', h('a', { href: '#/admin/cli', text: 'Admin → Command line' }), ', then ', h('code', { text: 'blindvault org push' }), '.'),
            h('li', {}, 'Invite approvers: ', h('code', { text: 'blindvault approver invite' }), ' prints the link they open.')),
          h('a.button.primary', { href: '#/admin', text: 'Open the admin pages' })));
    } catch (e) {
      out.append(errorNotice(e));
    }
  });
  page('Claim this instance', form);
  code.focus();
}

// ---- home -------------------------------------------------------------------------------------

function homePage() {
  if (!state.me) {
    return page('A vault whose server is blind',
      h('div.card.stack', {},
        h('p', { text: 'Every secret opens only on a person\'s device, with their passkey. The server keeps public keys and ciphertext — nothing that opens anything.' }),
        h('div.row', {}, h('a.button.primary', { href: '#/signin', text: 'Sign in' }),
          h('a.button', { href: '#/signup', text: 'Create account' })),
        h('p.small.muted', {}, 'Setting up a new instance? ', h('a', { href: '#/setup', text: 'Claim it with the setup code' }), '.')));
  }
  return requestsPage();
}

// ---- account: passkeys and sessions -----------------------------------------------------------

async function accountPage() {
  const seq = renderSeq;
  const u = state.me.user;
  const pk = await api('GET', '/api/passkeys');
  const ss = await api('GET', '/api/sessions');
  if (seq !== renderSeq) return;
  const out = h('div');
  const list = h('ul.list', {}, pk.passkeys.map((p) => {
    const li = h('li');
    const nameEl = h('span.item-title', { text: p.name });
    li.append(
      h('div.row.spread', {}, nameEl,
        p.backup_state ? h('span.pill.ok', { text: 'synced' }) : h('span.pill', { text: 'this device only' })),
      h('div.small.muted', { text: `Added ${when(p.created_at)} · last used ${p.last_used_at ? when(p.last_used_at) : 'never'}` }),
      h('div.row', {},
        action('Rename', 'link', async () => {
          const n = prompt('New name for this passkey', p.name);
          if (n === null) return;
          await api('PATCH', `/api/passkeys/${encodeURIComponent(p.id)}`, { name: n.trim() });
          route();
        }, { out }),
        action('Remove', 'link', async () => {
          if (!confirm(`Remove the passkey “${p.name}”? It will no longer sign in or approve.\n\nYour passkey confirms this removal (of passkey ${p.id}) next.`)) return;
          await stepped('DELETE', `/api/passkeys/${encodeURIComponent(p.id)}`, undefined, 'passkey.delete', p.id);
          route();
        }, { out, busy: 'Waiting for your passkey…' })));
    return li;
  }));
  const sessions = h('ul.list', {}, ss.sessions.map((s) => h('li', {},
    h('div.row.spread', {}, h('span.item-title', { text: s.client_addr || 'unknown address' }),
      s.id === ss.current ? h('span.pill.ok', { text: 'this browser' }) : null),
    h('div.small.muted', { text: `Signed in ${when(s.created_at)} · ends ${when(s.expires_at)}` }))));
  page('Your account',
    out,
    h('div.card', {}, h('div.row.spread', {}, h('h2', { text: u.display_name }), h('span.pill', { text: u.role })),
      h('p.muted.small', { text: `User name ${u.name}` })),
    h('div.card.stack', { 'aria-labelledby': 'pk-h' }, h('h2', { id: 'pk-h', text: 'Passkeys' }), list,
      action('Add a passkey (another device)', 'primary', async () => {
        const name = (prompt('A name for the new passkey (e.g. “work laptop”)', 'another device') || 'another device').trim();
        // First a passkey this account already has confirms it is you (a step-up, as for a
        // command-line session), then the new device creates its passkey.
        const check = await api('POST', '/api/login/start');
        const a = await getAssertion(check.options, { prf: false });
        const start = await api('POST', '/api/passkeys/register/start', { name, ceremony_id: check.ceremony_id, credential: a.json });
        const created = await createCredential(start.options);
        await api('POST', '/api/passkeys/register/finish', { ceremony_id: start.ceremony_id, credential: created.json });
        wipe(created.prf);
        if (!created.prfEnabled) out.append(prfNotice());
        else route();
      }, { out, busy: 'Waiting for your passkey…' })),
    h('div.card.stack', {}, h('h2', { text: 'Sessions' }),
      h('p.small.muted', { text: 'Sessions are short: they end on their own after the lifetime your admin set.' }), sessions,
      h('div.row', {},
        action('Sign out here', '', async () => { await api('POST', '/api/logout'); state.me = null; renderNav(); go('#/signin'); }, { out, testid: 'logout' }),
        action('Sign out everywhere', 'danger', async () => {
          if (!confirm('Sign out of every browser and command-line session?')) return;
          await api('POST', '/api/logout/all'); state.me = null; renderNav(); go('#/signin');
        }, { out }))),
    h('div.card.stack', {}, h('h2', { text: 'Approver' }),
      h('p.small', { text: 'To approve secret requests, open the invite link your admin sends you on the device that holds your passkey.' })));
}

// ---- approver enrolment -----------------------------------------------------------------------

function enrolPage(orgB64, inviteCode) {
  let org;
  try {
    org = OrgKey.fromBase64(orgB64 || '');
  } catch (e) {
    return page('This invite link is broken', notice('bad', 'The link does not carry an organisation key', e.message || String(e)),
      h('p', { text: 'Ask your admin to send the link again (blindvault approver invite).' }));
  }
  const orgFp = org.fingerprint();
  const orgKey = org.toBase64();
  org.free();
  if (!state.me) {
    sessionStorage.setItem('blindvault:next', location.hash);
    return page('Become an approver',
      h('div.card.stack', {},
        h('p', { text: 'You were invited to approve secret requests for an organisation whose key has the fingerprint:' }),
        h('p', {}, h('span.fp', { text: orgFp })),
        h('p', { text: 'First sign in, or create an account with a passkey on this device.' }),
        h('div.row', {}, h('a.button.primary', { href: inviteCode ? `#/signup/${encodeURIComponent(inviteCode)}` : '#/signup', text: 'Create account' }), h('a.button', { href: '#/signin', text: 'Sign in' }))));
  }
  const out = h('div');
  const result = h('div');
  // Another organisation key already pinned on this device (any passkey)? Re-pinning is how an
  // attacker's invite link would take over: it needs an explicit, informed confirmation.
  const others = Object.keys(localStorage).filter((k) => k.endsWith(':pinned-fingerprint'))
    .map((k) => localStorage.getItem(k)).filter((fp) => fp && fp !== orgFp);
  const repin = h('input', { type: 'checkbox', id: 'repin', 'data-testid': 'repin' });
  const repinBox = others.length ? h('div.notice.warn', { role: 'alert', 'data-testid': 'repin-warning' },
    h('strong', { text: 'This device already trusts another organisation key' }),
    h('div', { text: `Pinned now: ${[...new Set(others)].join(', ')}. This link: ${orgFp}.` }),
    h('p', { text: 'Only continue if your admin told you, over a channel other than this link (in person, a call), that the organisation key was replaced, and the new fingerprint matches.' }),
    h('div.row', {}, repin, h('label', { for: 'repin', text: 'I checked the new fingerprint with my admin' }))) : null;
  const main = page('Become an approver', out,
    h('div.card.stack', {},
      h('h2', { text: '1. Check the organisation' }),
      h('p', {}, 'Compare this fingerprint with what your admin reads from ', h('code', { text: 'blindvault org show' }), ':'),
      h('p', {}, h('span.fp', { 'data-testid': 'org-fingerprint', text: orgFp })),
      h('p.small.muted', { text: 'This device pins this key. It never takes an organisation key from the server.' }),
      repinBox),
    h('div.card.stack', {},
      h('h2', { text: '2. Create your approver key' }),
      h('p', { text: 'Your passkey derives it on this device. The server receives only the public half.' }),
      action('Create my approver key with my passkey', 'primary big', async () => {
        if (repinBox && !repin.checked) {
          throw new Error('This device already trusts another organisation key: confirm above that your admin told you it changed.');
        }
        const start = await api('POST', '/api/login/start');
        const a = await getAssertion(start.options);
        try {
          const who = await api('POST', '/api/login/finish', { ceremony_id: start.ceremony_id, credential: a.json });
          if (!who.user || who.user.id !== state.me.user.id) {
            await loadMe();
            renderNav();
            throw new Error(`That passkey belongs to another account (${who.user ? who.user.name : 'unknown'}); you are now signed in as that account. Open the invite link again if that is the one to enrol.`);
          }
        } catch (e) { wipe(a.prf); throw e; }
        await withKeys(a.prf, async (keys) => {
          let pinned = null;
          try { pinned = store.get(keys, a.credentialId, 'pinned-org'); } catch { pinned = null; }
          if (pinned !== null && pinned !== orgKey && !repin.checked) {
            throw new Error('This passkey already pinned another organisation key on this device; reload the page and confirm the change first.');
          }
          const enr = await api('POST', '/api/broker/enrolments', {
            credential_id: a.credentialId, approver_public_key: keys.approverPublicKey(),
          });
          store.put(keys, a.credentialId, 'pinned-org', orgKey);
          // The fingerprint in the clear only drives warnings (the requests page compares it with
          // the server's key without a passkey touch); trust decisions use the sealed key.
          localStorage.setItem(slot(a.credentialId, 'pinned-fingerprint'), orgFp);
          const safeId = /^[A-Za-z0-9_-]{22}$/.test(enr.id) ? enr.id : null;
          result.replaceChildren(h('div.card.stack', { 'data-testid': 'enrolled' },
            h('h2', { text: '3. Tell your admin', tabindex: '-1' }),
            notice('ok', 'Enrolment requested', 'Your admin approves it after comparing this fingerprint:'),
            h('p', {}, h('span.fp', { 'data-testid': 'approver-fingerprint', text: keys.approverFingerprint() })),
            safeId
              ? h('p', {}, 'They run ', h('code', { text: `blindvault approver approve ${safeId}` }), ' and should see the same fingerprint.')
              : h('p', {}, 'They run ', h('code', { text: 'blindvault approver list' }), ', then ', h('code', { text: 'blindvault approver approve' }), ' with your enrolment, and should see the same fingerprint.'),
            h('a.button', { href: '#/requests', text: 'Go to requests' })));
          $('h2', result).focus();
        });
      }, { out, testid: 'enrol', busy: 'Waiting for your passkey…' })),
    result);
  return main;
}

// ---- requests ---------------------------------------------------------------------------------

function startEvents(onChange) {
  if (state.events) state.events.close();
  const dot = $('#live-dot');
  const es = new EventSource('/api/broker/events');
  // Re-read on (re)connection too: nothing that changed while the stream was down is missed.
  const live = (on) => {
    const d = $('#live-dot'); if (d) d.classList.toggle('on', on);
    const t = $('#live-text'); if (t) t.textContent = on ? 'live' : 'reconnecting…';
  };
  es.addEventListener('ready', () => { live(true); onChange(); });
  es.addEventListener('request', onChange);
  es.addEventListener('resync', onChange);
  // The server ends the stream when this session ends (sign-out, revocation, expiry, a role
  // change); re-reading then meets the sign-in page.
  es.addEventListener('ended', () => { es.close(); live(false); onChange(); });
  es.onerror = () => live(false);
  state.events = es;
  if (dot) dot.classList.remove('on');
}

async function requestsPage() {
  const seq = renderSeq;
  await loadMe(); // an approved enrolment changes the role
  if (seq !== renderSeq) return;
  renderNav();
  const r = role();
  if (r !== 'approver' && r !== 'admin') {
    return page('Requests', h('div.card.stack', {},
      h('p', { text: 'You are not an approver yet.' }),
      h('p.muted', { text: 'Your admin sends you an invite link; open it on the device that holds your passkey, then they approve your enrolment.' })));
  }
  const warn = h('div');
  const pins = Object.keys(localStorage).filter((k) => k.endsWith(':pinned-fingerprint')).map((k) => localStorage.getItem(k));
  if (pins.length) {
    try {
      const srv = await api('GET', '/api/broker/org');
      let fp = null;
      if (srv.org_public_key) { const k = OrgKey.fromBase64(srv.org_public_key); fp = k.fingerprint(); k.free(); }
      if (pins.some((p) => p !== fp)) {
        warn.append(h('div.notice.bad', { role: 'alert', 'data-testid': 'org-changed' },
          h('strong', { text: 'The organisation key on the server changed' }),
          h('div', { text: `This device pinned ${pins.join(', ')} when you enrolled; the server now shows ${fp || 'no key'}.` }),
          h('p', { text: 'Your device keeps checking requests against the key it pinned, so requests signed by another key fail their checks. If your admin did not tell you they replaced it, report this now. If they did, check the new fingerprint with them by another channel (in person, a call) before you open a new invite link.' })));
      }
    } catch { /* shown by the list below */ }
  }
  if (seq !== renderSeq) return;
  const listEl = h('ul.list', { 'data-testid': 'request-list' });
  // Screen readers hear the count change, not the whole list again.
  const count = h('p.small.muted', { 'aria-live': 'polite', 'data-testid': 'request-count' });
  let latest = 0;
  const refresh = async () => {
    if (seq !== renderSeq) return;
    const mine = ++latest;
    let rows;
    try { rows = await api('GET', '/api/broker/inbox'); } catch (e) {
      if (mine === latest && seq === renderSeq) listEl.replaceChildren(h('li', {}, errorNotice(e)));
      return;
    }
    // Overlapping refreshes can finish out of order: only the newest one draws.
    if (mine !== latest || seq !== renderSeq) return;
    count.textContent = rows.length === 1 ? '1 request waiting' : `${rows.length} requests waiting`;
    if (!rows.length) {
      listEl.replaceChildren(h('li.muted', { 'data-testid': 'no-requests', text: 'Nothing is waiting for you. New requests appear here as they arrive.' }));
      return;
    }
    listEl.replaceChildren(...rows.map((q) => h('li', {},
      h('a.tile', { href: `#/requests/${encodeURIComponent(q.request_id)}`, 'data-testid': 'request-item' },
        h('div.row.spread', {},
          h('span.item-title', { text: `${q.host_name || 'A machine'} asks for a secret` }),
          h('span.pill.warn', { text: q.threshold > 1 ? `${q.threshold} approvals needed` : 'needs you' })),
        h('div.small.muted', { text: `Asked ${ago(q.created_at)} · expires in ${inWords(q.expires_at - nowSecs())}` }),
        h('div.small', { text: 'Unlock to see the secret\'s name and what will run; your device checks the machine\'s certificate →' })))));
  };
  page('Requests', warn,
    h('div.card', {},
      h('div.row.spread', {}, h('h2', { text: 'Waiting for your decision' }),
        h('span.live', {}, h('span.dot', { id: 'live-dot' }), h('span', { id: 'live-text', text: 'connecting' }))),
      count, listEl));
  await refresh();
  startEvents(refresh);
}

async function requestPage(id) {
  const seq = renderSeq;
  const view = await api('GET', `/api/broker/requests/${encodeURIComponent(id)}`);
  if (seq !== renderSeq) return;
  const out = h('div');
  const body = h('div');
  const finished = view.status !== 'pending' || view.my_decision;
  const statusText = view.my_decision ? `You ${view.my_decision}` : view.status;
  page('Request', out,
    h('div.card.stack', {},
      h('div.row.spread', {}, h('span.item-title', { text: `Request ${short(view.request_id)}` }),
        h(`span.pill${view.status === 'pending' && !view.my_decision ? '.warn' : ''}`, { 'data-testid': 'request-status', text: statusText })),
      // How to check applies only while there is something to decide.
      finished ? null : h('p.small.muted', { 'data-testid': 'request-how', text: 'Nothing on this page is trusted until your device has checked it: unlock with your passkey, and your device verifies the organisation → host → request chain from the key it pinned, then opens the secret\'s label.' })),
    body);
  if (finished) {
    body.append(h('div.card', {}, h('p', { text: view.status === 'pending' ? 'You already decided on this request.' : `This request is ${view.status}.` }),
      h('a.button', { href: '#/requests', text: 'Back to requests' })));
    return;
  }
  const deny = action('Deny', 'danger', async () => {
    await api('POST', `/api/broker/requests/${encodeURIComponent(id)}/deny`, {});
    markDecided('denied');
    body.replaceChildren(notice('warn', 'Denied', 'The machine gets nothing and is told no.'), h('a.button', { href: '#/requests', text: 'Back to requests' }));
  }, { out, testid: 'deny' });
  const unlock = action('Unlock with my passkey to check', 'primary big', async () => {
    await review(view, body, out);
  }, { out, testid: 'unlock', busy: 'Waiting for your passkey…' });
  body.append(h('div.card.stack', {}, unlock, h('div.row', {}, deny)));
}

/** The status pill after the person's own decision on this page (the list is refreshed live). */
function markDecided(decision) {
  const how = $('[data-testid=request-how]');
  if (how) how.remove();
  const pill = $('[data-testid=request-status]');
  if (!pill) return;
  pill.textContent = `You ${decision}`;
  pill.className = `pill ${decision === 'approved' ? 'ok' : 'bad'}`;
}

/** One passkey ceremony (the approval's own, bound to this request by the server) gives the
 * PRF output that unlocks the pinned org key and this device's envelope. The person then sees
 * what was verified and decides. */
async function review(view, body, out) {
  const id = view.request_id;
  // The server's ceremony clock starts at approve/start: so does ours (with a safety margin).
  const ttl = (state.me && state.me.ceremony_ttl_secs) || 120;
  const deadline = Date.now() + Math.max(10, ttl - 15) * 1000;
  const start = await api('POST', `/api/broker/requests/${encodeURIComponent(id)}/approve/start`, {});
  const a = await getAssertion(start.options);
  if (!a.prf) throw new PrfUnsupported();
  const keys = new DeviceKeys(a.prf); // zeroes a.prf, even when it throws
  let org = null;
  let done = false;
  const release = () => {
    if (done) return;
    done = true;
    keys.free();
    if (org) org.free();
  };
  const denyButton = (approveBtn) => action('Deny', 'danger', async () => {
    if (approveBtn) approveBtn.disabled = true;
    await api('POST', `/api/broker/requests/${encodeURIComponent(id)}/deny`, {});
    release();
    markDecided('denied');
    body.replaceChildren(notice('warn', 'Denied', 'The machine gets nothing and is told no.'), h('a.button', { href: '#/requests', text: 'Back to requests' }));
  }, { out, testid: 'deny' });
  try {
    let pinned;
    try {
      pinned = store.get(keys, a.credentialId, 'pinned-org');
    } catch {
      throw new Error('The organisation key stored on this device does not open with this passkey: it was edited, or it belongs to another passkey. Do not approve; ask your admin for your invite link and check its fingerprint with them.');
    }
    if (pinned === null) {
      throw new Error('This device has no organisation key pinned for this passkey. Open the invite link your admin sent you (on this device) before approving.');
    }
    org = OrgKey.fromBase64(pinned);
    // The server's current org key is only compared, never trusted.
    let orgChanged = false;
    try {
      const srv = await api('GET', '/api/broker/org');
      orgChanged = srv && srv.org_public_key && srv.org_public_key !== pinned;
    } catch { /* no org on the server: the chain check below fails anyway */ }
    const warnings = [];
    if (orgChanged) {
      warnings.push(notice('bad', 'The organisation key on the server changed',
        `It is no longer the key you pinned (${org.fingerprint()}). If your admin did not tell you they replaced it, report this. Requests are checked against your pinned key only.`));
    }
    let verified = null;
    let failure = null;
    let signature = false;
    try {
      verified = JSON.parse(verifyRequest(org, view.certificate, view.signed_request, view.sealed_entry || '', nowSecs()));
      if (verified.request_id !== id) {
        verified = null;
        signature = true;
        failure = 'The server showed another request than the one it named.';
      }
      if (verified) {
        // The org's revocation record: signed by the pinned key and append-only against the
        // record this device remembers for this org key (an older one, none after one, or one
        // that drops a revocation is refused), then naming neither this machine nor this device.
        // The record is remembered before the second check, so one that refuses this request
        // still raises the floor. Keyed by the org's fingerprint: a replaced org key starts over.
        const seenKey = `blindvault:${a.credentialId}:${org.fingerprint()}:revocations`;
        const seen = localStorage.getItem(seenKey) || '';
        let record = '';
        try { record = (await api('GET', '/api/broker/revocations')).revocations || ''; } catch { /* none: checked below against what was seen */ }
        const remember = acceptRevocations(org, record, seen);
        if (remember && remember !== seen) localStorage.setItem(seenKey, remember);
        verifyRevocations(org, remember, view.certificate, keys.approverPublicKey());
      }
    } catch (e) {
      verified = null;
      const m = e.message || String(e);
      signature = /not signed|does not add up|another secret|malformed|older revocation record|does not contain the one|revoked this machine|removed this device/.test(m) && !/older release/.test(m);
      failure = sentence(m);
    }
    let label = null;
    if (verified) {
      try { label = openLabel(keys, org, view.sealed_entry); } catch (e) { failure = sentence(e.message || String(e)); verified = null; }
    }
    body.replaceChildren();
    if (!verified) {
      release();
      const approveBtn = h('button.approve', { type: 'button', disabled: true, 'data-testid': 'approve', text: 'Approve' });
      body.append(...warnings, h('div.notice.bad', { role: 'alert', tabindex: '-1', 'data-testid': 'verify-failed' },
        h('strong', { text: 'Do not approve: this request failed its checks' }),
        h('div', { text: failure }),
        h('p', { text: signature
          ? 'Your device refuses to open the secret for it. Deny it, and tell your admin: the server or the requesting machine may be compromised.'
          : 'Your device refuses to open the secret for it. Deny it; if this keeps happening, tell your admin.' })),
      h('div.card.row', {}, approveBtn, denyButton(approveBtn)));
      $('[data-testid=verify-failed]', body).focus();
      return;
    }
    const others = (view.decisions || []).filter((d) => d && d.decision).map((d) => `${d.user}: ${d.decision}`);
    const facts = h('dl.facts', { 'data-testid': 'verified' },
      h('dt', { text: 'Machine (from the org-signed certificate)' }), h('dd', { 'data-testid': 'host-name', text: verified.host_name }),
      ...issuerFacts(verified, view),
      ...purposeFacts(verified.purpose),
      h('dt', { text: 'Secret' }), h('dd', { 'data-testid': 'secret-label', text: label }),
      h('dt', { text: 'Version' }), h('dd', { 'data-testid': 'secret-version', text: String(verified.version) }),
      h('dt', { text: 'Request expires' }), h('dd', { text: `${when(verified.expires_at)} (in ${inWords(verified.expires_at - nowSecs())})` }),
      h('dt', { text: 'Policy' }), h('dd', { text: verified.policy === 'any-of' ? `any one of ${verified.devices} approver devices` : `${verified.threshold} different people of ${verified.devices} devices` }),
      h('dt', { text: 'Host certificate valid until' }), h('dd', { text: when(verified.certificate_expires_at) }),
    );
    const reported = verified.threshold > 1
      ? h('div.card.stack', {}, h('h2', { text: 'Reported by the server (not checked)' }),
        h('p', { text: `Decisions so far: ${others.length ? others.join(', ') : 'nobody yet'}.` }))
      : null;
    const approveBtn = action('Approve', 'approve big', async () => {
      if (done || Date.now() > deadline) throw new Error('This unlock has expired. Reload the request and unlock again to approve.');
      try {
        const sealed = approve(keys, org, view.certificate, view.signed_request, view.sealed_entry, nowSecs());
        await api('POST', `/api/broker/requests/${encodeURIComponent(id)}/approve/finish`, {
          ceremony_id: start.ceremony_id, credential: a.json, sealed_response: sealed,
        });
      } catch (e) {
        // The passkey check is used up either way: free the keys now, and say how to go on.
        release();
        throw new Error(`${sentence(e.message || String(e))} Reload the request to see where it stands, and unlock again if it still needs you.`);
      }
      release();
      markDecided('approved');
      body.replaceChildren(notice('ok', 'Approved', `The secret was sealed on this device to ${verified.host_name}'s one-time key. The server only relays it.`),
        h('a.button', { href: '#/requests', text: 'Back to requests' }));
    }, { out, testid: 'approve', busy: 'Sealing…' });
    const checked = h('div.card.stack', { tabindex: '-1' }, notice('ok', 'Checked on this device', 'The machine, its request and the secret entry (label, version, policy) are signed by your organisation\'s pinned key, and the secret opened with your passkey.'), facts);
    body.append(...[...warnings, checked, reported, h('div.card.stack', {}, approveBtn, denyButton(approveBtn))].filter(Boolean));
    checked.focus();
    // Keys do not outlive the decision window or the page.
    const seq = renderSeq;
    setTimeout(() => {
      if (done) return;
      release();
      if (seq === renderSeq) { approveBtn.disabled = true; approveBtn.textContent = 'Unlock expired'; }
    }, deadline - Date.now());
    window.addEventListener('hashchange', release, { once: true });
  } catch (e) {
    release();
    throw e;
  }
}

/**
 * What the requesting host says it will do with the secret, as it signed it (checked by the
 * WASM core with the rest of the chain; every string already made inert there).
 */
function purposeFacts(p) {
  if (!p) return [];
  if (p.kind === 'inject') {
    return [
      h('dt', { text: 'Will write (signed by the host)' }), h('dd', { 'data-testid': 'purpose-out' }, h('code.purpose', { text: p.out })),
      h('dt', { text: 'From the template (SHA-256)' }), h('dd', { 'data-testid': 'purpose-template' }, h('code.fingerprint', { text: p.template_sha256 })),
    ];
  }
  return [
    h('dt', { text: 'Will run (signed by the host)' }), h('dd', { 'data-testid': 'purpose-command' }, h('code.purpose', { text: p.command })),
    h('dt', { text: 'With the secret in' }), h('dd', { 'data-testid': 'purpose-env', text: p.env.length ? p.env.join(', ') : '(no variables)' }),
    h('dt', { text: 'For at most' }), h('dd', { 'data-testid': 'purpose-lease', text: `${inWords(p.lease_secs)} once released (then stopped)` }),
  ];
}

// ---- admin ------------------------------------------------------------------------------------

const ADMIN_TABS = [
  ['users', 'People'], ['approvers', 'Approvers'], ['hosts', 'Hosts'], ['audit', 'Audit log'],
  ['cli', 'Command line'], ['settings', 'Settings'],
];

async function adminPage(tab = 'users') {
  if (!isAdmin()) return page('Admin', notice('warn', 'Admins only', 'Your role does not include the admin pages.'));
  const tabs = h('nav.tabs', { 'aria-label': 'Admin sections' },
    ADMIN_TABS.map(([t, label]) => h('a', { href: `#/admin/${t}`, 'aria-current': t === tab ? 'page' : false, text: label })));
  const out = h('div');
  const content = h('div');
  page('Admin', tabs, out, content);
  const render = { users: adminUsers, approvers: adminApprovers, hosts: adminHosts, audit: adminAudit, cli: adminCli, settings: adminSettings }[tab];
  if (!render) return content.append(notice('warn', 'No such section', ''));
  await render(content, out);
}

async function adminUsers(content, out) {
  const { users } = await api('GET', '/api/admin/users');
  const items = users.map((u) => {
    const sessionsBox = h('div');
    const sel = h('select.role', { 'aria-label': `Role of ${u.name}` },
      ['user', 'approver', 'admin'].map((r) => h('option', { value: r, selected: r === u.role, text: r })));
    sel.addEventListener('change', async () => {
      const want = sel.value;
      try {
        if (!confirm(`Make ${u.name} ${want}?\n\nYour passkey confirms this role change (role.set ${u.id}:${want}) next.`)) { sel.value = u.role; return; }
        sel.disabled = true;
        await stepped('PUT', `/api/admin/users/${u.id}/role`, { role: want }, 'role.set', `${u.id}:${want}`);
        u.role = want;
        out.replaceChildren(notice('ok', `${u.name} is now ${want}`, ''));
      } catch (e) { sel.value = u.role; out.replaceChildren(errorNotice(e)); } finally { sel.disabled = false; }
    });
    return h('li', {},
      h('div.row.spread', {},
        h('div', {}, h('div.item-title', { text: u.display_name }),
          h('div.small.muted', { text: `${u.name} · joined ${when(u.created_at)}` })),
        sel),
      h('div.row', {},
        action('Sessions', 'link', async () => {
          const { sessions } = await api('GET', `/api/admin/users/${u.id}/sessions`);
          sessionsBox.replaceChildren(sessions.length
            ? h('ul.list.small', {}, sessions.map((x) => {
              const li = h('li.row.spread', {},
                h('span', { text: `${x.client_addr || 'unknown address'} · since ${when(x.created_at)} · ends ${when(x.expires_at)}` }));
              li.append(action('Revoke', 'link', async () => {
                await api('DELETE', `/api/admin/sessions/${encodeURIComponent(x.id)}`);
                li.remove();
                out.replaceChildren(notice('ok', `Revoked one of ${u.name}'s sessions`, 'It stopped working at once.'));
              }, { out }));
              return li;
            }))
            : h('p.small.muted', { text: 'No live session.' }));
        }, { out }),
        action('Sign out everywhere', 'link', async () => {
          const r = await api('POST', `/api/admin/users/${u.id}/revoke-sessions`, {});
          out.replaceChildren(notice('ok', `Signed ${u.name} out`, `${r.revoked} session(s) ended.`));
        }, { out }),
        u.id === state.me.user.id ? null : action('Delete', 'link', async () => {
          if (!confirm(`Delete ${u.name}? Their passkeys and sessions end.\n\nYour passkey confirms this deletion (user.delete ${u.id}) next.`)) return;
          await stepped('DELETE', `/api/admin/users/${u.id}`, undefined, 'user.delete', u.id);
          route();
        }, { out })),
      sessionsBox);
  });
  content.append(h('div.card', {}, h('h2', { text: `People (${users.length})` }),
    h('p.small.muted', { text: 'Roles: user (signs in), approver (set when the org key signs an enrolment), admin (these pages).' }),
    h('ul.list', {}, items)), await invitesCard(out));
}

/** Invite codes: registration is invite-only. A new code is shown once, with its link. */
async function invitesCard(out) {
  const invites = await api('GET', '/api/admin/invites');
  const made = h('div');
  const role = h('select', { id: 'invite-role', 'aria-label': 'Role of the invited person' },
    ['user', 'admin'].map((r) => h('option', { value: r, text: r })));
  const open = invites.filter((i) => i.status === 'open');
  return h('div.card.stack', { 'data-testid': 'invites' }, h('h2', { text: 'Invite someone' }),
    h('p.small.muted', { text: 'Accounts are by invitation only. A code works once, for 7 days; it is shown only now. An admin code asks for your passkey. Approvers get theirs in the link from blindvault approver invite.' }),
    h('div.row', {}, h('label', { for: 'invite-role', text: 'Role' }), role,
      action('Make an invite code', 'primary', async () => {
        // An admin invite makes an admin, as a role change does: the passkey confirms it
        // (invite.create admin). A user invite needs no step-up: a user has no privilege.
        const want = role.value;
        if (want === 'admin' && !confirm('Make an invite code that signs someone up as an admin?\n\nYour passkey confirms this (invite.create admin) next.')) return;
        const i = want === 'admin'
          ? await stepped('POST', '/api/admin/invites', { role: want }, 'invite.create', want)
          : await api('POST', '/api/admin/invites', { role: want });
        const link = `${location.origin}/#/signup/${encodeURIComponent(i.code)}`;
        made.replaceChildren(notice('ok', `Invite code for one ${i.role}`, `Works once, until ${when(i.expires_at)}.`),
          h('p', {}, h('code', { 'data-testid': 'invite-code', text: i.code })),
          h('p.small', {}, 'Sign-up link: ', h('code', { 'data-testid': 'invite-link', text: link })));
      }, { out, testid: 'make-invite' })),
    made,
    open.length ? h('ul.list.small', {}, open.map((i) => {
      const li = h('li.row.spread', {}, h('span', { text: `${i.role} · made by ${i.created_by || 'someone removed'} · until ${when(i.expires_at)}` }));
      li.append(action('Revoke', 'link', async () => {
        await api('DELETE', `/api/admin/invites/${encodeURIComponent(i.id)}`);
        li.remove();
      }, { out }));
      return li;
    })) : null,
    invites.some((i) => i.status === 'used')
      ? h('p.small.muted', { text: `Used: ${invites.filter((i) => i.status === 'used').map((i) => `${i.used_by} (invited by ${i.created_by || 'someone removed'})`).join(', ')}.` })
      : null);
}

async function adminApprovers(content, out) {
  const rows = await api('GET', '/api/broker/enrolments');
  const pending = rows.filter((r) => r.status === 'pending');
  const item = (r) => h('li', {},
    h('div.row.spread', {}, h('span.item-title', { text: r.user_name }),
      h(`span.pill.${r.status === 'approved' ? 'ok' : r.status === 'pending' ? 'warn' : 'bad'}`, { text: r.status })),
    h('div', {}, h('span.fp', { text: r.fingerprint })),
    h('div.small.muted', { 'data-testid': 'passkey-kind', text: r.backup_eligible === true
      ? `Synced passkey${r.backup_state ? ' (backed up now)' : ''}: whoever controls the person's cloud account can reach it.`
      : r.backup_eligible === false ? 'Device-bound passkey: it cannot be synced or backed up.' : 'Passkey backup state unknown.' }),
    r.status === 'pending' ? h('p.small', {}, 'Compare with the person\'s device (the CLI recomputes this fingerprint from the key; trust its copy), then: ',
      /^[A-Za-z0-9_-]{22}$/.test(r.id) ? h('code', { text: `blindvault approver approve ${r.id}` }) : h('code', { text: 'blindvault approver list' })) : null,
    h('div.row', {}, action('Remove', 'link', async () => {
      const path = `/api/broker/enrolments/${encodeURIComponent(r.id)}`;
      // Dry run first: which secrets would fall below their quorum?
      const impact = await api('DELETE', `${path}?dry_run=true`);
      const below = impact.entries_below_quorum || [];
      const warning = below.length
        ? `\n\nWARNING: ${below.length} secret(s) would fall below their quorum and could not be released until rotated:\n` +
          below.map((e) => `  ${e.entry_id}: needs ${e.threshold}, ${e.people_left} left`).join('\n')
        : '';
      if (!confirm(`Remove ${r.user_name}'s approver device?${warning}\n\nYour passkey confirms this removal (approver.remove ${r.id}) next.`)) return;
      await stepped('DELETE', `${path}?dry_run=false`, undefined, 'approver.remove', r.id);
      route();
    }, { out })));
  content.append(
    h('div.card.stack', {}, h('h2', { text: 'Invite an approver' }),
      h('p', {}, 'On the machine that holds the org key: ', h('code', { text: 'blindvault approver invite' }), '. Send the link over a channel you trust; it carries the organisation key in its fragment, which browsers never send to the server.'),
      h('p.small.muted', { text: 'Enrolments are signed with the org key on your machine (the server never has it), so approving one happens on the command line.' })),
    h('div.card', {}, h('h2', { text: `Pending (${pending.length})` }),
      pending.length ? h('ul.list', {}, pending.map(item)) : h('p.muted', { text: 'No enrolment is waiting.' })),
    h('div.card', {}, h('h2', { text: 'Approver devices' }),
      h('ul.list', {}, rows.filter((r) => r.status !== 'pending').map(item))));
}

async function adminHosts(content, out) {
  const hosts = await api('GET', '/api/broker/hosts');
  content.append(h('div.card.stack', {}, h('h2', { text: 'Hosts' }),
    h('p.small.muted', {}, 'Certify a machine with ', h('code', { text: 'blindvault host issue --name NAME --entry ENTRY_ID' }), ' (signed with the org key on your machine).'),
    hosts.length ? h('div.scroll', {}, h('table', {},
      h('thead', {}, h('tr', {}, h('th', { text: 'Host' }), h('th', { text: 'Valid until' }), h('th', { text: 'State' }), h('th', { text: '' }))),
      h('tbody', {}, hosts.map((x) => h('tr', {},
        h('td', {}, h('div.item-title', { text: x.host_name }), h('div.small.muted', { text: short(x.cert_id) })),
        h('td.small', { text: when(x.not_after) }),
        h('td', {}, h(`span.pill.${x.revoked ? 'bad' : x.not_after < nowSecs() ? 'warn' : 'ok'}`, { text: x.revoked ? 'revoked' : x.not_after < nowSecs() ? 'expired' : 'active' })),
        h('td', {}, x.revoked ? null : action('Revoke', 'link', async () => {
          if (!confirm(`Revoke ${x.host_name}? Its requests are refused from now on.\n\nYour passkey confirms this revocation (host.revoke ${x.cert_id}) next.`)) return;
          await stepped('POST', `/api/broker/hosts/${encodeURIComponent(x.cert_id)}/revoke`, {}, 'host.revoke', x.cert_id);
          route();
        }, { out }))))))) : h('p.muted', { text: 'No host is certified yet.' })));
}

/** The audit anchor this browser kept from its last look at the log (not secret; a check against
 * someone who edits the database between two visits, not against the server itself). */
const AUDIT_ANCHOR_SLOT = 'blindvault:audit-anchor';
function keptAuditAnchor() {
  try {
    const a = JSON.parse(localStorage.getItem(AUDIT_ANCHOR_SLOT) || 'null');
    return a && Number.isSafeInteger(a.seq) && a.seq > 0 && /^[0-9a-f]{64}$/.test(a.hash) ? a : null;
  } catch { return null; }
}

async function adminAudit(content) {
  const [v, people] = await Promise.all([api('GET', '/api/admin/audit/verify'), api('GET', '/api/admin/users')]);
  // Does the log still hold the row this browser kept last time, with the same hash?
  const kept = keptAuditAnchor();
  let keptRow = null;
  let keptMatches = null;
  if (kept && !v.first_bad) {
    const r = await api('GET', `/api/admin/audit?after=${kept.seq - 1}&limit=1`);
    keptRow = r.rows.find((row) => row.seq === kept.seq) || null;
    keptMatches = !!keptRow && keptRow.hash === kept.hash;
  }
  // Keep the new head only while nothing is wrong: a mismatch stays on record as evidence.
  if (v.head && !v.first_bad && keptMatches !== false) {
    localStorage.setItem(AUDIT_ANCHOR_SLOT, JSON.stringify({ seq: v.head.seq, hash: v.head.hash, at: Math.floor(Date.now() / 1000) }));
  }
  // The newest 200 rows.
  const list = await api('GET', `/api/admin/audit?after=${Math.max(0, v.rows - 200)}&limit=200`);
  const names = new Map(people.users.map((u) => [u.id, u.name]));
  const rows = list.rows.slice().reverse();
  const rewritten = keptMatches === false
    ? h('div.notice.bad', { role: 'alert', 'data-testid': 'audit-rewritten' },
      h('strong', { text: 'The audit log was rewritten since this browser last checked it' }),
      h('div', { text: `When you looked on ${when(kept.at)}, row ${kept.seq} had hash ${kept.hash.slice(0, 16)}…; the server now ${keptRow ? `has ${keptRow.hash.slice(0, 16)}…` : 'has no such row'}. The chain still links up, so someone with access to the database rewrote it consistently.` }),
      h('div', {}, 'This browser keeps the old anchor as evidence. Check the database yourself: ',
        h('code', { text: `blindvault audit verify --anchor ${kept.seq}:${kept.hash}` })),
      h('div.row', {}, action('The log was reset on purpose: forget the old anchor', 'small', async () => {
        if (!window.confirm('Forget the anchor this browser kept? Only do this if this server was set up afresh on purpose.')) return;
        localStorage.removeItem(AUDIT_ANCHOR_SLOT);
        go('#/admin/audit');
      }, { testid: 'audit-forget-anchor' })))
    : null;
  const keptOk = keptMatches === true
    ? h('div.small', { 'data-testid': 'audit-kept-ok', text: `It still holds row ${kept.seq} exactly as this browser saw it on ${when(kept.at)}.` })
    : null;
  content.append(
    rewritten || '',
    v.first_bad
      ? notice('bad', 'The audit chain is broken', `Row ${v.first_bad.seq}: ${v.first_bad.reason}. Someone edited, removed or reordered the log.`)
      : h('div.notice.ok', { role: 'status', 'data-testid': 'audit-ok' }, h('strong', { text: rewritten ? 'The chain itself links up — but see above' : 'The audit chain verifies' }),
        h('div', {}, `${v.rows} rows, each hash-linked to the one before (as this server checks it; run `, h('code', { text: 'blindvault audit verify' }), ' against the database to check it yourself).'),
        v.head ? h('div.small', {}, 'Anchor: ', h('code', { 'data-testid': 'audit-anchor', text: `${v.head.seq}:${v.head.hash}` }),
          ' — keep a copy outside this server; ', h('code', { text: 'blindvault audit verify --anchor …' }), ' fails later if the log up to this row was rewritten.') : null,
        keptOk),
    h('div.card.scroll', {}, h('h2', { text: rows.length < v.rows ? `Newest ${rows.length} of ${v.rows}` : `All ${v.rows}` }), h('table', {},
      h('thead', {}, h('tr', {}, h('th', { text: '#' }), h('th', { text: 'When' }), h('th', { text: 'Action' }), h('th', { text: 'Actor' }))),
      h('tbody', {}, rows.map((r) => h('tr', {},
        h('td.small', { text: r.seq }), h('td.small', { text: when(r.at) }),
        h('td', {}, h('code', { text: r.action })), h('td.small', { text: auditActor(r, names) })))))));
}

/** Who did it: a person's name, or — for rows with no signed-in actor — the host a request came
 * from (its name as registered), or the server itself (sweeps, expiries). */
function auditActor(r, names) {
  if (r.actor) return names.get(r.actor) || short(r.actor);
  let detail = {};
  try { detail = typeof r.detail === 'string' ? JSON.parse(r.detail) : (r.detail || {}); } catch { /* not JSON */ }
  if (typeof detail.host === 'string' && detail.host) return `host ${detail.host}`;
  if (r.action.startsWith('broker.request.')) return 'the requesting host';
  return 'the server';
}

async function adminCli(content, out) {
  const tokenBox = h('div');
  content.append(h('div.card.stack', {},
    h('h2', { text: 'A session for the command line' }),
    h('p', { text: 'Admin commands (org push, approver approve, host issue, secret put) read a session token from a file. Make one here: your passkey confirms it is you. It is an ordinary session: it ends after the session lifetime and you can revoke it.' }),
    action('Create a command-line session', 'primary', async () => {
      const start = await api('POST', '/api/login/start');
      const a = await getAssertion(start.options, { prf: false });
      const r = await api('POST', '/api/sessions/cli', { ceremony_id: start.ceremony_id, credential: a.json });
      const text = h('textarea', { readonly: true, rows: 4, 'aria-label': 'Session file contents', 'data-testid': 'cli-token' });
      text.value = `${r.cookie_name || 'bv_session'}=${r.token}`;
      tokenBox.replaceChildren(
        notice('warn', 'Shown once', `Save it in a file only you can read, then point the CLI at it. It ends in ${inWords(r.expires_in)}.`),
        text,
        h('p.small', {}, h('code', { text: '(umask 077; cat > ~/.config/blindvault/session)   # paste the token, then Ctrl-D' })),
        h('p.small', {}, h('code', { text: 'export BLINDVAULT_SESSION_FILE=~/.config/blindvault/session' })));
      text.select();
    }, { out, testid: 'make-cli-session', busy: 'Waiting for your passkey…' }),
    tokenBox));
}

async function adminSettings(content) {
  const s = await api('GET', '/api/admin/settings');
  content.append(h('div.card', {}, h('h2', { text: 'This instance' }),
    h('dl.facts', {},
      h('dt', { text: 'Relying party ID' }), h('dd', {}, h('code', { text: s.rp_id })),
      h('dt', { text: 'Origin' }), h('dd', {}, h('code', { text: s.origin })),
      h('dt', { text: 'Name shown by passkeys' }), h('dd', { text: s.rp_name }),
      h('dt', { text: 'Session lifetime' }), h('dd', { text: inWords(s.session_ttl_secs) }),
      h('dt', { text: 'Passkey ceremony lifetime' }), h('dd', { text: inWords(s.challenge_ttl_secs) }),
      h('dt', { text: 'Sign-in attempts' }), h('dd', { text: `${s.rate_limit_per_minute} per minute per address (burst ${s.rate_limit_burst})` }),
      h('dt', { text: 'Failed passkey attempts' }), h('dd', { text: `${s.account_rate_limit_per_minute} per minute per account (burst ${s.account_rate_limit_burst})` }),
      h('dt', { text: 'Database' }), h('dd', { text: s.database })),
    h('p.small.muted', {}, 'Set at start: see ', h('code', { text: 'blindvault serve --help' }), '.')));
}

// ---- router -----------------------------------------------------------------------------------

async function route() {
  renderSeq += 1;
  const seq = renderSeq;
  // Assistive technology (and the end-to-end tests) can tell a page still loading from one drawn.
  $('#main').setAttribute('aria-busy', 'true');
  if (state.events) { state.events.close(); state.events = null; }
  setBanner(null);
  renderNav();
  const next = sessionStorage.getItem('blindvault:next');
  try {
    const [name, arg, arg2] = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
    switch (name) {
      case '': case undefined:
        if (state.me && next) { sessionStorage.removeItem('blindvault:next'); return go(next); }
        return await homePage();
      case 'signin': return signinPage(next);
      case 'signup': return signupPage(next, arg);
      case 'setup': return setupPage();
      case 'enrol': return enrolPage(arg, arg2);
      case 'bench': return benchPage();
    }
    if (!state.me) {
      sessionStorage.setItem('blindvault:next', location.hash);
      return signinPage(location.hash);
    }
    switch (name) {
      case 'account': return await accountPage();
      case 'requests': return arg ? await requestPage(arg) : await requestsPage();
      case 'admin': return await adminPage(arg);
      case 'confirm': return await confirmPage(arg);
      default: return page('Not found', h('p', {}, 'No such page. ', h('a', { href: '#/', text: 'Home' })));
    }
  } catch (e) {
    if (e.status === 401) {
      state.me = null;
      renderNav();
      sessionStorage.setItem('blindvault:next', location.hash);
      return page('Your session ended', notice('warn', 'Sign in again', 'Sessions are short on purpose.'),
        action('Sign in with a passkey', 'primary', async () => { await signIn(); route(); }, {}));
    }
    page('Something went wrong', errorNotice(e));
  } finally {
    if (seq === renderSeq) $('#main').removeAttribute('aria-busy');
    $('#main').focus({ preventScroll: true });
  }
}

/** The browser half of `scripts/bench-web.sh`: the same approval the native bench times. */
function benchPage() {
  const out = h('pre', { 'data-testid': 'bench-result' });
  page('Benchmark', h('div.card', {}, h('p', { text: 'Approve (verify + open + reseal) in WebAssembly.' }),
    action('Run', 'primary', async () => {
      const b = new ApproveBench();
      for (let i = 0; i < 50; i++) b.run();
      const batch = 200;
      const samples = [];
      for (let s = 0; s < 15; s++) {
        const t = performance.now();
        for (let i = 0; i < batch; i++) b.run();
        samples.push(((performance.now() - t) * 1000) / batch);
      }
      b.free();
      samples.sort((x, y) => x - y);
      out.textContent = `wasm_approve_us=${samples[7].toFixed(2)}`;
    }, { testid: 'bench-run' }), out));
}

async function main() {
  try {
    await init();
  } catch (e) {
    $('#main').replaceChildren(notice('bad', 'This browser cannot run blindvault', 'WebAssembly failed to load. Use a current Chrome, Edge, Safari or Firefox.'));
    return;
  }
  try { await loadMe(); } catch (e) { /* shown by the page */ }
  window.addEventListener('hashchange', route);
  // The skip link must not change the route (the app routes on the hash).
  $('.skip').addEventListener('click', (ev) => { ev.preventDefault(); $('#main').focus(); });
  await route();
}

main();
