// `#/requests` and `#/requests/<id>`: the list, and one request checked on this device before
// the person decides.
import { api } from '../api.js';
import { pointsAtTampering } from '../codes.js';
import { $, ago, h, inWords, notice, nowSecs, page, sentence, short, when } from '../dom.js';
import { renderSeq } from '../router.js';
import { loadMe, role, state } from '../state.js';
import { store } from '../storage.js';
import { currentSubscription, disablePush, enablePush, pushSupported } from '../push.js';
import { action, errorNotice, renderNav } from '../ui.js';
import { DeviceKeys, OrgKey, acceptRevocations, approve, openLabel, verifyRequest, verifyRevocations } from '../wasm.js';
import { PrfUnsupported, getAssertion } from '../webauthn.js';

/** Who issued the host's certificate: the person the org-signed certificate names (by user id),
 * shown by the name the server gives that id (the name only if the ids agree), or "you". A
 * format-1 certificate names no issuer. */
export function issuerFacts(verified, view) {
  if (!verified.issuer) {
    return [h('dt', { text: 'Certificate issued by' }), h('dd', { 'data-testid': 'cert-issuer', text: 'not named (an older certificate)' })];
  }
  const mine = state.me && state.me.user && state.me.user.id === verified.issuer;
  const name = mine ? 'you' : (view.issuer === verified.issuer && view.issuer_name) || `user ${verified.issuer}`;
  const alone = verified.self_approval ? ' (may approve alone)' : ' (another person must approve too)';
  return [h('dt', { text: 'Certificate issued by' }), h('dd', { 'data-testid': 'cert-issuer', text: `${name}${alone}` })];
}

/** The stream's reconnection delay after it could not be opened: 1 s, doubling to 30 s. */
const BACKOFF_MS = [1000, 2000, 4000, 8000, 16000, 30000];

/**
 * The live stream of request changes. Every (re)connection re-reads the list (`ready`), and a
 * stream resumed from its last event id starts with `resync`, so nothing that changed while it
 * was down is missed. The browser reconnects a dropped stream by itself; when it gives up (the
 * server answered with an error, or could not be reached for long), this reconnects with a
 * growing delay, saying when, until the stream is back — or the session turns out to have ended.
 */
export function startEvents(onChange) {
  if (state.events) state.events.close();
  let lastId = '';
  let failures = 0;
  let timer = null;
  let closed = false;
  const show = (on, text) => {
    const d = $('#live-dot'); if (d) d.classList.toggle('on', on);
    const t = $('#live-text'); if (t) t.textContent = text;
  };
  const handle = {
    close() { closed = true; clearTimeout(timer); if (handle.es) handle.es.close(); },
    es: null,
  };
  const open = () => {
    if (closed) return;
    const url = lastId ? `/api/broker/events?last_event_id=${encodeURIComponent(lastId)}` : '/api/broker/events';
    const es = new EventSource(url);
    handle.es = es;
    const seen = (ev) => { if (ev.lastEventId) lastId = ev.lastEventId; };
    es.addEventListener('ready', (ev) => { seen(ev); failures = 0; show(true, 'live'); onChange(); });
    es.addEventListener('request', (ev) => { seen(ev); onChange(); });
    es.addEventListener('resync', (ev) => { seen(ev); onChange(); });
    // The server ends the stream when this session ends (sign-out, revocation, expiry, a role
    // change); re-reading then meets the sign-in page.
    es.addEventListener('ended', () => { handle.close(); show(false, 'ended'); onChange(); });
    es.onerror = () => {
      if (es.readyState !== EventSource.CLOSED) { show(false, 'reconnecting…'); return; }
      // The browser gave up: try again later, unless the session is over.
      es.close();
      const wait = BACKOFF_MS[Math.min(failures, BACKOFF_MS.length - 1)];
      failures += 1;
      show(false, `offline — retrying in ${Math.round(wait / 1000)} s`);
      timer = setTimeout(async () => {
        try {
          const r = await fetch('/api/me', { credentials: 'same-origin' });
          if (closed) return; // the page moved on meanwhile
          if (r.status === 401) { handle.close(); show(false, 'ended'); onChange(); return; }
        } catch { /* still unreachable: the stream's own error schedules the next try */ }
        open();
      }, wait);
    };
  };
  open();
  state.events = handle;
  show(false, 'connecting');
}

export async function requestsPage() {
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
  // Released secrets whose lease still runs: the command may be using them now.
  const runningEl = h('ul.list', { 'data-testid': 'running-list' });
  const runningOut = h('div');
  let latestRunning = 0;
  const refreshRunning = async () => {
    if (seq !== renderSeq) return;
    const mine = ++latestRunning;
    let rows;
    try { rows = await api('GET', '/api/broker/leases'); } catch (e) {
      if (mine === latestRunning && seq === renderSeq) runningEl.replaceChildren(h('li', {}, errorNotice(e)));
      return;
    }
    if (mine !== latestRunning || seq !== renderSeq) return;
    // A person answering "End now?" keeps their question: the next refresh after it draws.
    if (runningEl.querySelector('[data-testid="end-lease-confirm-box"]')) return;
    if (!rows.length) {
      runningEl.replaceChildren(h('li.muted', { 'data-testid': 'no-running', text: 'Nothing is running with a secret you released.' }));
      return;
    }
    runningEl.replaceChildren(...rows.map((l) => h('li', { 'data-testid': 'running-item' }, leaseCard(l, runningOut))));
  };
  const refreshAll = () => Promise.all([refresh(), refreshRunning()]);
  page('Requests', warn,
    h('div.card', {},
      h('div.row.spread', {}, h('h2', { text: 'Waiting for your decision' }),
        h('span.live', {}, h('span.dot', { id: 'live-dot' }), h('span', { id: 'live-text', text: 'connecting' }))),
      count, listEl),
    h('div.card', {},
      h('h2', { text: 'Running' }),
      h('p.small.muted', { text: r === 'admin' ? 'Commands that hold a released secret now (all of the organisation\'s). Ending a lease stops the command and everything it started.' : 'Commands that hold a secret you can release, now. Ending a lease stops the command and everything it started.' }),
      runningOut, runningEl),
    notifyCard());
  await refreshAll();
  startEvents(refreshAll);
}

/** Who ended a lease: "you" or their name. */
function endedBy(l) {
  if (state.me && state.me.user && l.ended_by === state.me.user.id) return 'you';
  return l.ended_by_name || 'someone no longer here';
}

/** The command a lease runs, as the host signed it (the server escapes every character
 * outside printable ASCII). */
function leaseWhat(l) {
  return l.command || 'a template (inject)';
}

/**
 * One lease: the host, the command, who approved and the time left — with End now (and a
 * confirm step) while it runs, or who ended it. `out` takes errors.
 */
export function leaseCard(l, out) {
  const box = h('div.stack');
  const facts = h('div.stack', {},
    h('div.row.spread', {},
      h('span.item-title', { 'data-testid': 'lease-host', text: l.host_name || 'A machine' }),
      h(`span.pill${l.state === 'running' ? '.warn' : ''}`, { 'data-testid': 'lease-state', text: l.state === 'running' ? 'running' : 'ended' })),
    h('div', {}, h('code.purpose', { 'data-testid': 'lease-command', text: leaseWhat(l) })),
    h('div.small.muted', { 'data-testid': 'lease-facts', text: `Approved by ${(l.approved_by || []).join(', ') || 'nobody still here'} · released ${ago(l.delivered_at)}${l.env && l.env.length ? ` · secret in ${l.env.join(', ')}` : ''}` }));
  const ended = (v) => h('p', { 'data-testid': 'lease-ended', text: `Ended by ${endedBy(v)} at ${when(v.ended_at)}. The command was told to stop.` });
  if (l.state !== 'running') {
    box.append(facts, ended(l));
    return box;
  }
  const left = h('div.small', { 'data-testid': 'lease-left', text: `${inWords(l.ends_at - nowSecs())} left of its lease` });
  const controls = h('div.row');
  const endNow = h('button.danger', { type: 'button', 'data-testid': 'end-lease', text: 'End now' });
  endNow.addEventListener('click', () => {
    const confirmBox = h('div.notice.warn.stack', { role: 'alertdialog', 'data-testid': 'end-lease-confirm-box' },
      h('strong', {}, 'End the lease of ', h('code.purpose', { text: leaseWhat(l) }), ` on ${l.host_name || 'the machine'} now? The command is stopped.`),
      h('div.small', { text: 'It and every process it started get SIGTERM, then SIGKILL. The machine needs to reach the server to hear it; if it cannot, the lease runs to its own end.' }));
    const yes = action('End now', 'danger', async () => {
      const v = await api('POST', `/api/broker/requests/${encodeURIComponent(l.request_id)}/lease/end`, {});
      left.remove();
      const pill = $('[data-testid=lease-state]', box);
      if (pill) { pill.textContent = 'ended'; pill.className = 'pill'; }
      controls.replaceChildren(ended(v));
    }, { out, testid: 'end-lease-confirm', busy: 'Ending…' });
    const no = h('button', { type: 'button', 'data-testid': 'end-lease-cancel', text: 'Keep it running' });
    no.addEventListener('click', () => controls.replaceChildren(endNow));
    controls.replaceChildren(h('div.stack', {}, confirmBox, h('div.row', {}, yes, no)));
    yes.focus();
  });
  controls.append(endNow);
  box.append(facts, left, controls);
  return box;
}

/** "Notify this device when a request waits": opt this device in to pushes, or out. */
function notifyCard() {
  const out = h('div');
  const card = h('div.card.stack', { 'data-testid': 'push-card' }, h('h2', { text: 'Notifications' }), out);
  if (!pushSupported()) {
    card.append(h('p.small.muted', { text: 'This browser cannot show notifications from a web app. On an iPhone or iPad, add the app to the Home Screen first, then open it from there.' }));
    return card;
  }
  const status = h('p.small', { 'data-testid': 'push-status' });
  const row = h('div.row');
  const show = (sub) => {
    status.textContent = sub
      ? 'This device is notified when a request waits for you. The notification shows no secret, host or command; deciding still takes this app and your passkey.'
      : 'Get a notification on this device when a request waits for you, even when this page is closed.';
    row.replaceChildren(sub
      ? action('Stop notifying this device', '', async () => { await disablePush(); show(null); }, { out, testid: 'push-off' })
      : action('Notify this device when a request waits', 'primary', async () => { show(await enablePush()); }, { out, testid: 'push-on', busy: 'Asking the browser…' }));
  };
  card.append(status, row);
  currentSubscription().then(show, () => show(null));
  return card;
}

export async function requestPage(id) {
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
    // A released request's lease: running (End now), or ended (by whom).
    const lease = view.lease && view.lease.state !== 'over'
      ? h('div.card.stack', { 'data-testid': 'request-lease' }, h('h2', { text: view.lease.state === 'running' ? 'Running now' : 'Lease ended early' }), leaseCard(view.lease, out))
      : null;
    const status = view.status === 'delivered'
      ? (view.lease && view.lease.state === 'over' ? 'The secret was released; its lease is over.' : 'The secret was released to the machine.')
      : (view.status === 'pending' ? 'You already decided on this request.' : `This request is ${view.status}.`);
    body.append(...[lease, h('div.card', {}, h('p', { text: status }),
      h('a.button', { href: '#/requests', text: 'Back to requests' }))].filter(Boolean));
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
export function markDecided(decision) {
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
export async function review(view, body, out) {
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
      // The core's failures carry a code (web/js/codes.js): it, not the wording, picks the warning.
      signature = pointsAtTampering(e && e.code);
      failure = sentence(e.message || String(e));
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
export function purposeFacts(p) {
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
