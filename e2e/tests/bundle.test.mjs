// What the server serves as the web app, asked over HTTP as a browser would: the ES modules the
// entry imports, and no benchmark fixture (the benchmark build carries it, outside web/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib.mjs';

/** Every module reachable from `/app.js` by static `import … from '…'`, with its source. */
async function modules(base) {
  const seen = new Map();
  const todo = ['/app.js'];
  while (todo.length) {
    const p = todo.pop();
    if (seen.has(p)) continue;
    const r = await fetch(base + p);
    assert.equal(r.status, 200, `${p} is served`);
    assert.match(r.headers.get('content-type'), /^text\/javascript/, `${p} is served as JavaScript`);
    const src = await r.text();
    seen.set(p, src);
    for (const m of src.matchAll(/^(?:import|export)\s[^;]*?\sfrom\s+'([^']+)';/gms)) {
      const to = new URL(m[1], base + p);
      assert.equal(to.origin, new URL(base).origin, `${p} imports from this origin only (${m[1]})`);
      todo.push(to.pathname);
    }
  }
  return seen;
}

test('the served app is ES modules from this origin, and carries no benchmark fixture', async (t) => {
  const server = await startServer();
  t.after(() => { server.stop(); server.cleanup(); });
  const base = server.url;

  const html = await (await fetch(`${base}/`)).text();
  const entries = [...html.matchAll(/<script\b([^>]*)>/g)].map((m) => m[1]);
  assert.deepEqual(entries, [' type="module" src="/app.js"'], 'index.html loads one module entry');

  const mods = await modules(base);
  for (const p of ['/js/dom.js', '/js/api.js', '/js/webauthn.js', '/js/wasm.js', '/js/router.js', '/js/pages/requests.js', '/pkg/blindvault_wasm.js']) {
    assert.ok(mods.has(p), `${p} is imported (got ${[...mods.keys()].join(', ')})`);
  }
  for (const [p, src] of mods) {
    // The DOM is built from text nodes only (Trusted Types with no policy would throw anyway).
    for (const banned of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'eval(', 'new Function', 'document.write']) {
      assert.ok(!src.includes(banned), `${p} uses ${banned}`);
    }
    // No module of the production app knows the benchmark.
    assert.ok(!/ApproveBench|approvebench|bench-result|#\/bench/i.test(src), `${p} carries the benchmark fixture`);
  }

  // The benchmark page and script are not served, and `#/bench` is no route of the app.
  for (const p of ['/bench.js', '/bench.html', '/js/bench.js', '/js/pages/bench.js', '/pkg/bench.js']) {
    assert.equal((await fetch(base + p)).status, 404, `${p} is not served`);
  }
  assert.ok(!mods.get('/js/router.js').includes("'bench'"), 'the router has no bench page');

  // The wallet is its own bundle: served, but imported by no module of the approver app.
  const walletWasm = await fetch(`${base}/wallet-pkg/blindvault_wallet_wasm_bg.wasm`);
  assert.equal(walletWasm.status, 200, 'the wallet bundle is served');
  assert.equal(walletWasm.headers.get('content-type'), 'application/wasm');
  assert.ok(Buffer.from(await walletWasm.arrayBuffer()).subarray(0, 4).equals(Buffer.from('\0asm')));
  for (const p of ['/js/wasm.js', '/js/pages/requests.js', '/pkg/blindvault_wasm.js']) {
    assert.ok(!mods.get(p).includes('wallet-pkg'), `${p} (the approver's path) loads the wallet bundle`);
  }
  // The wallet page loads it on first use only (a dynamic import in /js/wallet.js): starting the
  // app loads no wallet code.
  assert.ok(mods.has('/js/pages/wallet.js'), 'the wallet page is a module of the app');
  assert.ok(![...mods.keys()].some((p) => p.startsWith('/wallet-pkg/')), 'no module imports the wallet bundle statically');
  assert.match(mods.get('/js/wallet.js'), /import\('\.\.\/wallet-pkg\/blindvault_wallet_wasm\.js'\)/);
  for (const [p, src] of mods) {
    if (p !== '/js/wallet.js') assert.ok(!src.includes('wallet-pkg'), `${p} refers to the wallet bundle`);
  }
  const approverWasm = Buffer.from(await (await fetch(`${base}/pkg/blindvault_wasm_bg.wasm`)).arrayBuffer()).toString('latin1');
  for (const s of ['solanaSignTransfer', 'evmSignTransaction', 'bitcoinSignPsbt']) {
    assert.ok(!approverWasm.includes(s), `the approver bundle carries the wallet's ${s}`);
  }

  // The WebAssembly carries neither the `ApproveBench` export nor the fixture's data.
  const wasm = Buffer.from(await (await fetch(`${base}/pkg/blindvault_wasm_bg.wasm`)).arrayBuffer());
  assert.ok(wasm.subarray(0, 4).equals(Buffer.from('\0asm')), 'the bundle is served');
  const text = wasm.toString('latin1');
  for (const s of ['approvebench', 'bench-host', 'bench label']) {
    assert.ok(!text.includes(s), `the served WebAssembly contains "${s}"`);
  }
});
