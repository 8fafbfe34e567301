// Renders the app's PNG icons from web/icon.svg in headless Chromium (run once, when the icon
// changes; the PNGs are committed): `node e2e/render-icons.mjs` (e2e/node_modules installed).
//   web/icons/icon-192.png, icon-512.png   the icon as drawn (rounded square, transparent corners)
//   web/icons/maskable-512.png             full-bleed background, the shield inside the central
//                                          80 % "safe zone" Android's masks keep
//   web/apple-touch-icon.png (180)         full-bleed, opaque (iOS rounds the corners itself)
// e2e/tests/pwa.test.mjs checks each is a PNG of the size the manifest says.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, launch } from './tests/lib.mjs';

const svg = readFileSync(path.join(ROOT, 'web/icon.svg'), 'utf8');
const BG = '#1d3b6e'; // the icon's own background

/** The icon's drawing without its rounded background, scaled by `scale` around the centre. */
function fullBleed(scale) {
  const inner = svg.replace(/^<svg[^>]*>/, '').replace(/<\/svg>\s*$/, '').replace(/<rect[^>]*\/>/, '');
  const t = 32 - 32 * scale;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" fill="${BG}"/><g transform="translate(${t} ${t}) scale(${scale})">${inner}</g></svg>`;
}

const icons = [
  ['web/icons/icon-192.png', 192, svg],
  ['web/icons/icon-512.png', 512, svg],
  ['web/icons/maskable-512.png', 512, fullBleed(0.72)],
  ['web/apple-touch-icon.png', 180, fullBleed(0.86)],
];

const browser = await launch();
try {
  for (const [file, size, source] of icons) {
    const page = await browser.newPage({ viewport: { width: size, height: size }, deviceScaleFactor: 1 });
    const url = `data:image/svg+xml;base64,${Buffer.from(source).toString('base64')}`;
    await page.setContent(`<html><body style="margin:0;background:transparent"><img src="${url}" width="${size}" height="${size}" style="display:block"></body></html>`);
    await page.locator('img').evaluate((img) => img.decode());
    await page.screenshot({ path: path.join(ROOT, file), omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } });
    await page.close();
    console.log(`${file}: ${size}x${size}`);
  }
} finally {
  await browser.close();
}
