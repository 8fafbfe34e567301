// The installable app: registers the service worker (web/sw.js: the app shell and the offline
// page, versioned with the server; docs/webapp.md "Installable app and offline") and shows an
// "Install app" button in the header while the browser offers to install (Chrome, Edge and
// Android fire `beforeinstallprompt`; Safari installs from its Share menu and never does).

const WORKER = '/sw.js';

/** Registers /sw.js for the whole origin. A failure only costs the offline page. The page's
 * policy enforces Trusted Types for scripts: registering takes a TrustedScriptURL, made by the
 * one policy the CSP allows (`sw`), which has no HTML sink and passes this one URL only. */
export function registerWorker() {
  if (!('serviceWorker' in navigator)) return;
  let url = WORKER;
  if (window.trustedTypes) {
    const policy = trustedTypes.createPolicy('sw', {
      createScriptURL: (u) => { if (u !== WORKER) throw new TypeError('not the service worker'); return u; },
    });
    url = policy.createScriptURL(WORKER);
  }
  navigator.serviceWorker.register(url, { scope: '/' }).catch(() => {});
}

/** Wires the header's install button to the browser's install prompt. */
export function installable() {
  const button = document.getElementById('install');
  if (!button) return;
  let offer = null;
  window.addEventListener('beforeinstallprompt', (ev) => {
    ev.preventDefault(); // the button asks, not a banner at a moment the person did not choose
    offer = ev;
    button.hidden = false;
  });
  window.addEventListener('appinstalled', () => {
    offer = null;
    button.hidden = true;
  });
  button.addEventListener('click', async () => {
    if (!offer) return;
    const ev = offer;
    offer = null; // a prompt can be shown once
    button.hidden = true;
    await ev.prompt();
  });
}
