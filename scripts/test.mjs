// Runs every test file under test/ with node's test runner (TypeScript through tsx).
// Node 20's --test takes no globs, so the files are found here. Extra args are passed through,
// e.g. `npm test -- --test-name-pattern=inject`; a path argument limits the run to those files.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const args = process.argv.slice(2);
const paths = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-'));
const files = paths.length ? paths.flatMap((p) => (statSync(p).isDirectory() ? find(p) : [p])) : find('test');
const reporter = process.env.CI || !process.stdout.isTTY ? 'spec' : 'spec';
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-reporter=${reporter}`, '--test-concurrency=2', ...flags, ...files],
  { stdio: 'inherit', env: { ...process.env, NO_COLOR: process.env.NO_COLOR ?? '' } },
);
process.exitCode = r.status ?? 1;
