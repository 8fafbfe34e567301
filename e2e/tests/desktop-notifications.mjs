// A desktop notification service stand-in: the freedesktop.org `org.freedesktop.Notifications`
// D-Bus interface on a private session bus (a `dbus-daemon` this module starts). Chromium on Linux
// shows a web notification by calling `Notify` on it, and treats the `ActionInvoked` signal with
// the "default" action as the person's click on it — the same path a click on a real desktop
// notification takes: Chromium dispatches `notificationclick` to the service worker, whose handler
// opens the page. So a test sees the notification as shown and clicks it, with nothing in the
// browser replaced. (Chromium routes clicks this way only for a normal profile, not an
// incognito-like browser context: use it with `chromium.launchPersistentContext`.)
import { spawn } from 'node:child_process';
import dbus from 'dbus-next';

const NAME = 'org.freedesktop.Notifications';
const OBJECT = '/org/freedesktop/Notifications';

/** Starts a private bus and the service on it. `env` is the environment the browser needs;
 * `next()` resolves with each notification shown (`{ id, app, summary, body, actions, at }`);
 * `click(id)` clicks one; `stop()` ends both. */
export async function notificationService() {
  const daemon = spawn('dbus-daemon', ['--session', '--nofork', '--print-address=1'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const address = await new Promise((resolve, reject) => {
    let out = '';
    daemon.once('error', (e) => reject(new Error(`cannot start dbus-daemon (Debian package dbus-daemon): ${e.message}`)));
    daemon.once('exit', (c) => reject(new Error(`dbus-daemon exited ${c}`)));
    daemon.stdout.on('data', (d) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n')) resolve(line.trim());
    });
  });
  const bus = dbus.sessionBus({ busAddress: address });
  const shown = [];
  const waiting = [];
  let nextId = 1;

  class Notifications extends dbus.interface.Interface {
    GetCapabilities() { return ['actions', 'body']; }
    GetServerInformation() { return ['blindvault-e2e', 'blindvault', '1', '1.2']; }
    Notify(app, replaces, icon, summary, body, actions, hints, timeout) {
      const id = replaces || nextId++;
      const n = { id, app, summary, body, actions, at: performance.now() };
      const w = waiting.shift();
      if (w) w(n); else shown.push(n);
      return id;
    }
    CloseNotification(id) { this.NotificationClosed(id, 3); }
    ActionInvoked(id, key) { return [id, key]; }
    NotificationClosed(id, reason) { return [id, reason]; }
  }
  Notifications.configureMembers({
    methods: {
      GetCapabilities: { inSignature: '', outSignature: 'as' },
      GetServerInformation: { inSignature: '', outSignature: 'ssss' },
      Notify: { inSignature: 'susssasa{sv}i', outSignature: 'u' },
      CloseNotification: { inSignature: 'u', outSignature: '' },
    },
    signals: { ActionInvoked: { signature: 'us' }, NotificationClosed: { signature: 'uu' } },
  });
  const service = new Notifications(NAME);
  await bus.requestName(NAME, 0);
  bus.export(OBJECT, service);

  return {
    env: { DBUS_SESSION_BUS_ADDRESS: address },
    next: () => (shown.length ? Promise.resolve(shown.shift()) : new Promise((r) => waiting.push(r))),
    click: (id) => service.ActionInvoked(id, 'default'),
    stop() { try { bus.disconnect(); } catch { /* already gone */ } daemon.kill(); },
  };
}
