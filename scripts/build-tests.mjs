// Compiles src/, test/ and bench/ into .test-build/ (tsc -p tsconfig.test-build.json: the typecheck
// and the emit in one pass), then gives it, as links, what tests read beside their own files
// (fixtures and .mjs hooks under test/, templates/, docs/, bin/, dist/, examples/ ...), so
// `new URL('../..', import.meta.url)` finds the same files as from the sources. The folder is
// cleared first: rm does not follow links, and tsc must never write through one into the sources.
// `node scripts/build-tests.mjs` builds; `buildTests({ ifStale: true })` only when a .ts changed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';

export const BUILD = '.test-build';
const COMPILED = ['src', 'test', 'bench'];
const STAMP = join(BUILD, '.stamp');

/** Files under `dir` whose names end with `suffix`, in a stable order. */
export function find(dir, suffix) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...find(p, suffix));
    else if (name.endsWith(suffix)) out.push(p);
  }
  return out;
}

function stale() {
  if (!existsSync(STAMP)) return true;
  const built = statSync(STAMP).mtimeMs;
  return statSync('tsconfig.test-build.json').mtimeMs > built || COMPILED.some((d) => find(d, '.ts').some((f) => statSync(f).mtimeMs > built));
}

/** Build .test-build/ (always, or with `ifStale` only when a source changed); exits the process when tsc fails. */
export function buildTests({ ifStale = false } = {}) {
  if (ifStale && !stale()) return;
  rmSync(BUILD, { recursive: true, force: true });
  const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.test-build.json'], { stdio: 'inherit' });
  if (tsc.status !== 0) process.exit(tsc.status ?? 1);
  mkdirSync(BUILD, { recursive: true });
  for (const name of readdirSync('.')) {
    if ([...COMPILED, BUILD, '.git', 'node_modules'].includes(name)) continue;
    symlinkSync(join('..', name), join(BUILD, name));
  }
  // Inside test/: whatever is not compiled TypeScript (fixture folders, .mjs hooks, data files).
  const mirror = (dir) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const at = join(BUILD, p);
      const isDir = statSync(p).isDirectory();
      if (isDir && find(p, '.ts').length) mirror(p);
      else if (!name.endsWith('.ts')) symlinkSync(relative(join(BUILD, dir), p), at);
    }
  };
  mirror('test');
  writeFileSync(STAMP, '');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) buildTests();
