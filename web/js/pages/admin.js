// `#/admin/<tab>`: the admin pages.
import { api } from '../api.js';
import { h, inWords, notice, nowSecs, page, short, when } from '../dom.js';
import { go, route } from '../router.js';
import { isAdmin, role, state } from '../state.js';
import { stepped } from '../stepup.js';
import { action, errorNotice } from '../ui.js';

export const ADMIN_TABS = [
  ['users', 'People'], ['approvers', 'Approvers'], ['hosts', 'Hosts'], ['audit', 'Audit log'],
  ['cli', 'Command line'], ['settings', 'Settings'],
];

export async function adminPage(tab = 'users') {
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

export async function adminUsers(content, out) {
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
          out.replaceChildren(notice('ok', `Signed ${u.name} out`, `${r.revoked} session(s) ended; their command-line tokens are revoked too.`));
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
export async function invitesCard(out) {
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

export async function adminApprovers(content, out) {
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

export async function adminHosts(content, out) {
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
export const AUDIT_ANCHOR_SLOT = 'blindvault:audit-anchor';

export function keptAuditAnchor() {
  try {
    const a = JSON.parse(localStorage.getItem(AUDIT_ANCHOR_SLOT) || 'null');
    return a && Number.isSafeInteger(a.seq) && a.seq > 0 && /^[0-9a-f]{64}$/.test(a.hash) ? a : null;
  } catch { return null; }
}

export async function adminAudit(content) {
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
export function auditActor(r, names) {
  if (r.actor) return names.get(r.actor) || short(r.actor);
  let detail = {};
  try { detail = typeof r.detail === 'string' ? JSON.parse(r.detail) : (r.detail || {}); } catch { /* not JSON */ }
  if (typeof detail.host === 'string' && detail.host) return `host ${detail.host}`;
  if (r.action.startsWith('broker.request.')) return 'the requesting host';
  return 'the server';
}

export async function adminCli(content) {
  content.append(h('div.card.stack', {},
    h('h2', { text: 'The command line' }),
    h('p', { text: 'Admin commands (org push, approver approve, host issue, secret put) sign in with a command-line token of scope admin. Make one, see everyone’s and revoke any on the tokens page.' }),
    h('a.button.primary', { href: '#/account/tokens', 'data-testid': 'admin-tokens-link', text: 'Command-line tokens' })));
}

export async function adminSettings(content) {
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
      h('dt', { text: 'Database' }), h('dd', { text: s.database }),
      h('dt', { text: 'Push services' }), h('dd', { 'data-testid': 'push-services' }, ...pushServices(s.push_services))),
    h('p.small.muted', {}, 'Set at start: see ', h('code', { text: 'blindvault serve --help' }),
      ' and, for push services, ', h('code', { text: '[push] services' }), ' in the configuration file (docs/server.md).')));
}

/** `[push] services` in words: the hosts approvers' notification subscriptions may be at. */
function pushServices(list) {
  if (list.includes('*')) return [h('span', { text: 'any https host' })];
  if (list.length === 0) return [h('span', { text: 'none (notifications are off)' })];
  return list.flatMap((s, i) => [i ? ', ' : '', h('code', { text: s })]);
}
