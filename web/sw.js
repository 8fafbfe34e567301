// blindvault's service worker: keeps the app shell (the pages, scripts, styles, icons and both
// WebAssembly bundles) in a cache named after the build's version, so the installed app opens
// and shows what works offline when the network is gone. Rules (docs/webapp.md "Installable app
// and offline"):
// * The server fills in VERSION (a hash of every embedded file) and SHELL (every file but this
//   one) when it is built: a new server is a new worker, which caches its own shell and, once
//   active, deletes every other cache.
// * Nothing under /api/ is ever answered by this worker: API calls (and the live event stream)
//   go to the network as if there were no worker, and nothing it returns is stored.
// * A page is always asked of the network first. Cached files are served first only while the
//   server's version (the `X-Blindvault-Version` of the last page it served) is this worker's:
//   a shell older than the server never runs against its API. With another version, every file
//   comes from the network and the browser is asked to fetch the newer worker.
// * Offline, a page request gets /offline.html (from the cache), which says what works offline.
const VERSION = '__BLINDVAULT_VERSION__';
const SHELL = '__BLINDVAULT_SHELL__';
const CACHE = `blindvault-shell-${VERSION}`;
const OFFLINE = '/offline.html';

// The version the server last announced (null: not known since this worker started).
let serverVersion = null;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // `no-cache`: the files of this version, never an HTTP-cached older copy.
    await cache.addAll(SHELL.map((p) => new Request(p, { cache: 'no-cache' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

function noteVersion(resp) {
  const v = resp.headers.get('x-blindvault-version');
  if (!v) return;
  serverVersion = v;
  if (v !== VERSION) self.registration.update().catch(() => {});
}

async function page(request) {
  try {
    const resp = await fetch(request);
    noteVersion(resp);
    return resp;
  } catch (e) {
    const cache = await caches.open(CACHE);
    return (await cache.match(OFFLINE)) || Response.error();
  }
}

async function file(request) {
  const cache = await caches.open(CACHE);
  if (serverVersion === VERSION) {
    const hit = await cache.match(request);
    if (hit) return hit;
  }
  try {
    const resp = await fetch(request);
    noteVersion(resp);
    return resp;
  } catch (e) {
    // The network is gone: this version's copy (the offline page's style and icons) or nothing.
    return (await cache.match(request)) || Response.error();
  }
}

// Web Push (docs/webapp.md "Notifications"). The payload is `{"request": "<id>"}` and nothing
// else: no label, host or secret. The notification names the org, read from the public
// GET /api/push/key (no session: the app may be closed); offline it says "blindvault". Tapping
// it opens that request's page. A notification approves nothing.
const REQUEST_ID = /^[A-Za-z0-9_-]{1,128}$/;

async function orgName() {
  try {
    const r = await fetch('/api/push/key', { credentials: 'omit', cache: 'no-store' });
    const k = r.ok ? await r.json() : null;
    if (k && typeof k.org_name === 'string' && k.org_name) return k.org_name;
  } catch (e) { /* offline */ }
  return 'blindvault';
}

self.addEventListener('push', (event) => {
  event.waitUntil((async () => {
    let id = null;
    try { id = event.data ? event.data.json().request : null; } catch (e) { id = null; }
    if (typeof id !== 'string' || !REQUEST_ID.test(id)) id = null;
    await self.registration.showNotification('A request is waiting for your approval', {
      body: await orgName(),
      tag: id || 'blindvault-request',
      icon: '/icons/icon-192.png',
      data: { url: id ? `/#/requests/${id}` : '/#/requests' },
    });
  })());
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const want = (event.notification.data && event.notification.data.url) || '/#/requests';
  const target = new URL(want, self.location.origin);
  if (target.origin !== self.location.origin) return;
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    const open = windows.find((w) => new URL(w.url).origin === self.location.origin);
    if (open) {
      await open.focus();
      if (open.url !== target.href && 'navigate' in open) {
        try { await open.navigate(target.href); return; } catch (e) { /* not controlled: open one */ }
      } else {
        return;
      }
    }
    await self.clients.openWindow(target.href);
  })());
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname === '/api' || url.pathname.startsWith('/api/')) return;
  if (url.pathname === '/sw.js') return;
  event.respondWith(req.mode === 'navigate' ? page(req) : file(req));
});
