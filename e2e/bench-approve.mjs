// The browser half of scripts/bench-web.sh: serves the benchmark build on a loopback port — its
// page (e2e/bench/), the bundle with the fixture (`scripts/build-web.sh --bench` →
// $CARGO_TARGET_DIR/web-bench/pkg) and the app's own modules and stylesheet from web/ — opens it
// in Debian's Chromium and prints the WebAssembly approval time it measures
// (`wasm_approve_us=…`, the median of 15 batches of 200 approvals after a warm-up). The
// production app (web/, web/pkg) carries neither the page nor the fixture.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT, launch, DESKTOP } from './tests/lib.mjs';

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.svg': 'image/svg+xml' };
const web = path.join(ROOT, 'web');
const bench = path.join(ROOT, 'e2e/bench');
const pkg = path.resolve(ROOT, process.env.CARGO_TARGET_DIR || 'target', 'web-bench/pkg');
/** The file for a URL path: the page and its script, the benchmark bundle, else the app's files. */
function resolve(p) {
  if (p === '/' || p === '/index.html' || p === '/bench.js') return [bench, path.join(bench, p === '/bench.js' ? 'bench.js' : 'index.html')];
  if (p.startsWith('/pkg/')) return [pkg, path.join(pkg, p.slice('/pkg/'.length))];
  return [web, path.join(web, p)];
}
const server = http.createServer(async (req, res) => {
  const [dir, file] = resolve(new URL(req.url, 'http://x').pathname);
  if (!file.startsWith(dir + path.sep)) { res.writeHead(403).end(); return; }
  try {
    const body = await readFile(file);
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream' }).end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://localhost:${server.address().port}/`;
const browser = await launch();
try {
  const page = await (await browser.newContext({ viewport: DESKTOP })).newPage();
  await page.goto(url);
  await page.getByTestId('bench-run').click();
  const out = page.getByTestId('bench-result');
  await page.waitForFunction(() => document.querySelector('[data-testid=bench-result]')?.textContent.includes('='), null, { timeout: 300000 });
  console.log((await out.textContent()).trim());
} finally {
  await browser.close();
  server.close();
}
