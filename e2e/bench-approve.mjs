// The browser half of scripts/bench-web.sh: serves web/ on a loopback port, opens the app's
// #/bench page in Debian's Chromium and prints the WebAssembly approval time it measures
// (`wasm_approve_us=…`, the median of 15 batches of 200 approvals after a warm-up).
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT, launch, DESKTOP } from './tests/lib.mjs';

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.svg': 'image/svg+xml' };
const web = path.join(ROOT, 'web');
const server = http.createServer(async (req, res) => {
  const p = new URL(req.url, 'http://x').pathname;
  const file = path.join(web, p === '/' ? 'index.html' : p);
  if (!file.startsWith(web)) { res.writeHead(403).end(); return; }
  try {
    const body = await readFile(file);
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream' }).end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://localhost:${server.address().port}/#/bench`;
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
