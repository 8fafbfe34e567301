// Runs a wasm32-wasip1 binary (a Rust test or bench) in Node's WASI, with the host filesystem
// visible, so the core's tests prove byte equality on WebAssembly too.
// Used as CARGO_TARGET_WASM32_WASIP1_RUNNER by scripts/test.sh.
import { WASI } from 'node:wasi';
import { readFile } from 'node:fs/promises';

const [, , wasmPath, ...args] = process.argv;
const wasi = new WASI({
  version: 'preview1',
  args: [wasmPath, ...args],
  env: process.env,
  preopens: { '/': '/' },
  returnOnExit: true,
});
const module = await WebAssembly.compile(await readFile(wasmPath));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
process.exitCode = wasi.start(instance);
