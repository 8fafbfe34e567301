// The browser half of `scripts/bench-web.sh`: the same approval the native bench times
// (`crates/wasm/benches/approve.rs`, on the fixture of `crates/wasm/src/fixture.rs`).
// Only the benchmark build serves this page and the bundle with `ApproveBench`
// (`scripts/build-web.sh --bench`, served by `e2e/bench-approve.mjs`); the production app and
// the server carry neither. It reuses the app's own DOM helpers from `web/js/`.
import init, { ApproveBench } from '/pkg/blindvault_wasm.js';
import { h, page } from '/js/dom.js';
import { action } from '/js/ui.js';

function benchPage() {
  const out = h('pre', { 'data-testid': 'bench-result' });
  page('Benchmark', h('div.card', {}, h('p', { text: 'Approve (verify + open + reseal) in WebAssembly.' }),
    action('Run', 'primary', async () => {
      const b = new ApproveBench();
      for (let i = 0; i < 50; i++) b.run();
      const batch = 200;
      const samples = [];
      for (let s = 0; s < 15; s++) {
        const t = performance.now();
        for (let i = 0; i < batch; i++) b.run();
        samples.push(((performance.now() - t) * 1000) / batch);
      }
      b.free();
      samples.sort((x, y) => x - y);
      out.textContent = `wasm_approve_us=${samples[7].toFixed(2)}`;
    }, { testid: 'bench-run' }), out));
}

await init();
benchPage();
