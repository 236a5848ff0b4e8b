// Trunk's post-build hook (see Trunk.toml): minifies wasm-bindgen's JavaScript glue in
// release builds with terser, because Trunk's own minifier cannot parse it. The glue is
// a quarter of the JavaScript a phone downloads before the app starts. terser comes
// from end2end/node_modules (scripts/dev installs it, pinned, with the test tools).
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const staging = process.env.TRUNK_STAGING_DIR;
if (process.env.TRUNK_PROFILE !== 'release' || !staging) {
  process.exit(0);
}
const require = createRequire(new URL('../end2end/package.json', import.meta.url));
const { minify } = require('terser');
for (const name of await readdir(staging)) {
  if (!/^frontend-[0-9a-f]+\.js$/.test(name)) {
    continue;
  }
  const path = join(staging, name);
  const out = await minify(await readFile(path, 'utf8'), {
    module: true,
    compress: true,
    mangle: true,
  });
  if (typeof out.code !== 'string') {
    throw new Error('terser produced nothing for ' + name);
  }
  await writeFile(path, out.code);
}
