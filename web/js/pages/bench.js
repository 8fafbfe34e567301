// `#/bench`: the browser half of `scripts/bench-web.sh`.
import { h, page } from '../dom.js';
import { action } from '../ui.js';
import { ApproveBench } from '../wasm.js';

/** The browser half of `scripts/bench-web.sh`: the same approval the native bench times. */
export function benchPage() {
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
