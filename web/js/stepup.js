// Step-up: a fresh passkey assertion bound to one destructive action.
import { api } from './api.js';
import { h } from './dom.js';
import { action } from './ui.js';
import { getAssertion } from './webauthn.js';

/** What each step-up allows, in words. */
export const STEP_UP_WORDS = {
  'role.set': 'Change a person\'s role',
  'user.delete': 'Delete a person\'s account',
  'passkey.delete': 'Remove one of your passkeys',
  'org.replace': 'Replace the organisation key (every approver must enrol again)',
  'entry.delete': 'Delete a secret (every version)',
  'approver.remove': 'Remove an approver device',
  'host.revoke': 'Revoke a host certificate',
  'invite.create': 'Make an invite code that signs someone up as an admin',
  'wallet.origin.set': 'Make this passkey\'s wallet your wallet (the first unlock)',
  'wallet.envelope.put': 'Let one of your passkeys open your wallet',
  'token.create': 'Make a command-line token (its scope is the target)',
};

/** The action and target of a step-up, as a person reads them. */
export function stepUpFacts(action, target) {
  return h('dl.facts', { 'data-testid': 'step-up-facts' },
    h('dt', { text: 'Action' }), h('dd', {}, h('strong', { text: STEP_UP_WORDS[action] || action }), ' ', h('code', { text: action })),
    h('dt', { text: 'Target' }), h('dd', {}, h('code.fp', { 'data-testid': 'step-up-target', text: target })));
}

/** Confirms step-up `s` (from start or status) with a passkey of this account. */
export async function confirmStepUp(s) {
  const a = await getAssertion(s.options, { prf: false });
  await api('POST', `/api/step-up/${encodeURIComponent(s.id)}/confirm`, { credential: a.json });
}

/** Runs a destructive call behind a step-up: the server binds the passkey challenge to `action`
 * and `target` (the caller has shown both to the person), the passkey confirms, and the call
 * carries the confirmed step-up. */
export async function stepped(method, path, body, action, target) {
  const s = await api('POST', '/api/step-up/start', { action, target });
  await confirmStepUp(s);
  return api(method, path, body, { 'x-blindvault-step-up': s.id });
}
