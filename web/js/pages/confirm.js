// `#/confirm/<id>`: the page a command-line step-up links to.
import { api } from '../api.js';
import { h, notice, page, when } from '../dom.js';
import { confirmStepUp, stepUpFacts } from '../stepup.js';
import { action } from '../ui.js';

/** `#/confirm/<id>`: the page a command-line step-up links to. Shows what is being confirmed,
 * then asks for the passkey. */
export async function confirmPage(id) {
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
