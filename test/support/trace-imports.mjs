// `node --import ./test/support/trace-imports.mjs ...` records every module URL the program
// resolves into $MESH_TRACE_FILE, so tests can prove what a command does not load. ES modules are
// recorded as they resolve (the hooks see import, not require); CommonJS modules, including those
// loaded with createRequire (lazily loaded packages such as yaml and semver), from require's cache at exit.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';
register('./trace-imports-hooks.mjs', import.meta.url);
const cache = createRequire(import.meta.url).cache;
process.on('exit', () => {
  const file = process.env.MESH_TRACE_FILE;
  const loaded = Object.keys(cache).filter((p) => p.startsWith('/'));
  if (file && loaded.length > 0) appendFileSync(file, loaded.map((p) => pathToFileURL(p).href + '\n').join(''));
});
