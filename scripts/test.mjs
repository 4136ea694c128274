// Runs every test file under test/ with node's test runner. Node 20's --test takes no globs, so
// the files are found here. Extra args are passed through, e.g. `npm test -- --test-name-pattern=inject`;
// a path argument limits the run to those files.
// The whole suite runs compiled (scripts/build-tests.mjs: .test-build/, which `npm run typecheck`
// produces and this script rebuilds when a .ts file is newer): loading TypeScript
// through tsx's hooks cost about 1 s of CPU per test file. Files named on the command line run
// through tsx, so one test is quick to iterate on without a compile.
// After the runner's own summary (left as it is: CI reads it) the 10 slowest files are listed, so
// a file that grows slow is seen (timings come from scripts/file-durations.mjs).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { BUILD, buildTests, find } from './build-tests.mjs';

const args = process.argv.slice(2);
const paths = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-'));
const whole = paths.length === 0 && !process.env.MESH_TEST_TSX;
if (whole) buildTests({ ifStale: true });
const files = whole ? find(join(BUILD, 'test'), '.test.js') : (paths.length ? paths : ['test']).flatMap((p) => (statSync(p).isDirectory() ? find(p, '.test.ts') : [p]));
const reporter = process.env.CI || !process.stdout.isTTY ? 'spec' : 'spec';
const tmp = mkdtempSync(join(tmpdir(), 'mesh-test-'));
const timings = join(tmp, 'file-durations.tsv');
const r = spawnSync(
  process.execPath,
  [
    ...(whole ? ['--enable-source-maps'] : ['--import', 'tsx']),
    '--test',
    // Reporters pair with destinations in order: a caller's own --test-reporter replaces ours.
    ...(flags.some((f) => f.startsWith('--test-reporter'))
      ? []
      : [`--test-reporter=${reporter}`, '--test-reporter-destination=stdout', `--test-reporter=${new URL('./file-durations.mjs', import.meta.url).href}`, `--test-reporter-destination=${timings}`]),
    '--test-concurrency=2', ...flags, ...files,
  ],
  { stdio: 'inherit', env: { ...process.env, NO_COLOR: process.env.NO_COLOR ?? '' } },
);
printSlowest(timings, 10);
rmSync(tmp, { recursive: true, force: true });
process.exitCode = r.status ?? 1;

function printSlowest(path, n) {
  let lines;
  try {
    lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
  } catch {
    return; // the runner did not get as far as a file
  }
  const rows = lines.map((l) => l.split('\t')).map(([ms, file]) => ({ ms: Number(ms), file: relative(process.cwd(), file) })).sort((a, b) => b.ms - a.ms).slice(0, n);
  if (rows.length < 2) return;
  console.log(`\nslowest ${rows.length} test files:`);
  for (const { ms, file } of rows) console.log(`${(ms / 1000).toFixed(1).padStart(7)} s  ${file}`);
}
