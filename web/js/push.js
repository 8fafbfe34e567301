// Web Push on this device (docs/webapp.md "Notifications"): the approver opts in from the
// Requests page; the browser's PushSubscription is stored against the passkey this device
// enrolled with (removing that passkey removes it). The service worker (web/sw.js) shows "A
// request is waiting for your approval" with the org's name; tapping it opens the request.
// A notification approves nothing: deciding still takes this app and the passkey.
import { api } from './api.js';
import { API } from './api-codes.js';
import { b64u } from './webauthn.js';

/** Whether this browser can receive pushes at all. */
export const pushSupported = () =>
  'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;

/** The passkey this device enrolled with: the one whose org fingerprint it pinned (the
 * enrolment page keeps `blindvault:<credential id>:pinned-fingerprint`), else the person's
 * first approved enrolment. */
async function deviceCredential() {
  const pinned = Object.keys(localStorage)
    .filter((k) => k.startsWith('blindvault:') && k.endsWith(':pinned-fingerprint'))
    .map((k) => k.slice('blindvault:'.length, -':pinned-fingerprint'.length));
  const mine = await api('GET', '/api/broker/enrolments/mine');
  const approved = mine.filter((e) => e.status === 'approved').map((e) => e.credential_id);
  return approved.find((c) => pinned.includes(c)) || approved[0] || null;
}

/** This device's current subscription, if any. */
export async function currentSubscription() {
  if (!pushSupported()) return null;
  const reg = await navigator.serviceWorker.ready;
  return reg.pushManager.getSubscription();
}

/** Asks for permission, subscribes with the server's VAPID key and stores the subscription. */
export async function enablePush() {
  if (!pushSupported()) throw new Error('This browser cannot show notifications from a web app. On an iPhone, add the app to the Home Screen first.');
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') {
    throw new Error('Notifications are blocked for this site. Allow them in the browser\'s site settings, then press the button again.');
  }
  const credential = await deviceCredential();
  if (!credential) throw new Error('This device has no approved enrolment yet.');
  const { public_key: key } = await api('GET', '/api/push/key');
  const reg = await navigator.serviceWorker.ready;
  let sub = await reg.pushManager.getSubscription();
  // A subscription made with another server key (the server's database was replaced) cannot
  // receive this server's pushes: replace it.
  if (sub && sub.options.applicationServerKey && b64u.enc(sub.options.applicationServerKey) !== key) {
    await sub.unsubscribe();
    sub = null;
  }
  if (!sub) sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: b64u.dec(key) });
  const j = sub.toJSON();
  try {
    await api('POST', '/api/push/subscriptions', {
      credential_id: credential, endpoint: j.endpoint, keys: { p256dh: j.keys.p256dh, auth: j.keys.auth },
    });
  } catch (e) {
    // This browser's push service is not one the server sends to: a subscription the server
    // will never use is not kept (the button stays "Notify this device").
    if (e.code === API.PUSH_SERVICE_NOT_ALLOWED) {
      await sub.unsubscribe();
      throw new Error(`This server does not send notifications through this browser's push service (${new URL(j.endpoint).hostname}). Ask your administrator to allow it, or use Chrome, Edge, Firefox or Safari.`);
    }
    throw e;
  }
  return sub;
}

/** Removes the subscription on the server and in the browser. */
export async function disablePush() {
  const sub = await currentSubscription();
  if (!sub) return;
  await api('POST', '/api/push/subscriptions/remove', { endpoint: sub.endpoint });
  await sub.unsubscribe();
}
