// blindvault web app. JavaScript drives WebAuthn, the DOM and fetch; every key derivation,
// verification, envelope opening and sealing runs in the Rust core compiled to WebAssembly
// (./pkg, built from crates/wasm). No framework and no bundler: the browser loads these ES
// modules as they are, from this origin only (the page's Content-Security-Policy).
import { $, notice } from './js/dom.js';
import { route } from './js/router.js';
import { loadMe } from './js/state.js';
import { init } from './js/wasm.js';
import { installable, registerWorker } from './js/pwa.js';

async function main() {
  registerWorker();
  installable();
  try {
    await init();
  } catch (e) {
    $('#main').replaceChildren(notice('bad', 'This browser cannot run blindvault', 'WebAssembly failed to load. Use a current Chrome, Edge, Safari or Firefox.'));
    $('#main').removeAttribute('aria-busy'); // index.html ships it busy until the first page
    return;
  }
  try { await loadMe(); } catch (e) { /* shown by the page */ }
  window.addEventListener('hashchange', route);
  // The skip link must not change the route (the app routes on the hash).
  $('.skip').addEventListener('click', (ev) => { ev.preventDefault(); $('#main').focus(); });
  await route();
}

main();
