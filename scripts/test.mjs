// Runs every test file under test/ with node's test runner. Node 20's --test takes no globs, so
// the files are found here. Extra args are passed through, e.g. `npm test -- --test-name-pattern=inject`;
// a path argument limits the run to those files.
// The whole suite runs compiled (scripts/build-tests.mjs: .test-build/, which `npm run typecheck`
// produces and this script rebuilds when a .ts file is newer): loading TypeScript through tsx's
// hooks cost about 1 s of CPU per test file. It runs in a few long-lived workers
// (scripts/test-shard.mjs; MESH_TEST_WORKERS, default 4: on 2 cores the suite waits on I/O
// often enough that 4 ran it in 92 s where 3 took 121 s and 5 took 106 s), each running its share of the files one
// after another as suites in one process: a process per file paid node's start-up and a cold JIT
// of the same modules for every file. Files are shared out by their last duration (kept in
// node_modules/.cache/mesh-test), longest first. A file whose compiled text says
// "test: own process" (it sets process-wide state, e.g. an environment switch read at load) gets
// a worker to itself. Each worker's spec output is printed a whole file at a time; the summary,
// the failures and the 10 slowest files come from scripts/test-events.mjs.
// Files named on the command line run through tsx under `node --test`, so one test is quick to
// iterate on without a compile.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { BUILD, buildTests, find } from './build-tests.mjs';

const args = process.argv.slice(2);
const paths = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-'));
const whole = paths.length === 0 && !process.env.MESH_TEST_TSX;
if (whole) buildTests({ ifStale: true });
const reporter = 'spec';
const tmp = mkdtempSync(join(tmpdir(), 'mesh-test-'));
if (whole) {
  process.exitCode = await runWhole(find(join(BUILD, 'test'), '.test.js'));
} else {
  const files = (paths.length ? paths : ['test']).flatMap((p) => (statSync(p).isDirectory() ? find(p, '.test.ts') : [p]));
  const timings = join(tmp, 'file-durations.tsv');
  const r = spawnSync(
    process.execPath,
    [
      '--import', 'tsx',
      '--test',
      // Reporters pair with destinations in order: a caller's own --test-reporter replaces ours.
      ...(flags.some((f) => f.startsWith('--test-reporter'))
        ? []
        : [`--test-reporter=${reporter}`, '--test-reporter-destination=stdout', `--test-reporter=${new URL('./file-durations.mjs', import.meta.url).href}`, `--test-reporter-destination=${timings}`]),
      '--test-concurrency=2', ...flags, ...files,
    ],
    { stdio: 'inherit', env: { ...process.env, NO_COLOR: process.env.NO_COLOR ?? '' } },
  );
  let lines = [];
  try {
    lines = readFileSync(timings, 'utf8').split('\n').filter(Boolean).map((l) => l.split('\t')).map(([ms, file]) => ({ ms: Number(ms), file }));
  } catch {
    // the runner did not get as far as a file
  }
  printSlowest(lines, 10);
  process.exitCode = r.status ?? 1;
}
rmSync(tmp, { recursive: true, force: true });

/** Run every compiled test file in workers; returns the exit code. */
async function runWhole(files) {
  const started = Date.now();
  const cacheDir = join('node_modules', '.cache', 'mesh-test');
  const cacheFile = join(cacheDir, 'durations.json');
  // The last run's durations here, else those of a run on a quiet 2-core machine kept in the
  // repository (scripts/test-durations.json, refreshed by hand: they only balance the workers),
  // else file sizes.
  let last = {};
  for (const f of [cacheFile, new URL('./test-durations.json', import.meta.url)]) {
    try {
      last = JSON.parse(readFileSync(f, 'utf8'));
      break;
    } catch {
      // not there: try the next
    }
  }
  const weight = (f) => last[f] ?? statSync(f).size / 10;
  const workers = Math.max(1, Number(process.env.MESH_TEST_WORKERS) || 4);
  // Units of work: files that need a process of their own, and single files to share out.
  const units = files.map((f) => ({ files: [f], own: readFileSync(f, 'utf8').includes('test: own process'), w: weight(f) }));
  const bins = Array.from({ length: workers }, () => ({ w: 0, runs: [] }));
  for (const u of units.sort((a, b) => b.w - a.w)) {
    const bin = bins.reduce((a, b) => (b.w < a.w ? b : a));
    bin.w += u.w;
    const shared = bin.runs.find((r) => !r.own);
    if (u.own || !shared) bin.runs.push({ own: u.own, files: [...u.files] });
    else shared.files.push(...u.files);
  }
  const events = [];
  const exits = [];
  let n = 0;
  await Promise.all(
    bins.map(async (bin) => {
      for (const run of bin.runs) {
        const out = join(tmp, `events-${n++}.jsonl`);
        writeFileSync(out, '');
        exits.push({ files: run.files, code: await runShard(run.files, out) });
        events.push(...readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)));
      }
    }),
  );
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(cacheFile, JSON.stringify(Object.fromEntries(events.map((e) => [e.file, Math.round(e.ms)]))));
  return summarize(files, events, exits, Date.now() - started);
}

/** One worker over `files`; its spec output is forwarded a whole file (top-level suite) at a time. */
function runShard(files, eventsFile) {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--enable-source-maps', `--test-reporter=${reporter}`, '--test-reporter-destination=stdout', `--test-reporter=${new URL('./test-events.mjs', import.meta.url).href}`, '--test-reporter-destination=stderr', ...flags, new URL('./test-shard.mjs', import.meta.url).pathname, ...files],
      { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NO_COLOR: process.env.NO_COLOR ?? '', MESH_TEST_EVENTS: eventsFile } },
    );
    let pending = '';
    let block = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop();
      for (const line of lines) {
        if (line.includes('mesh-test-shard: done')) continue;
        block += line + '\n';
        if (/^[✔✖] /.test(line)) {
          process.stdout.write(block);
          block = '';
        }
      }
    });
    child.on('close', (code) => {
      if (block || pending) process.stdout.write(block + pending + (pending ? '\n' : ''));
      resolve(code ?? 1);
    });
  });
}

/** The suite's summary from every file's events; the exit code. */
function summarize(files, events, exits, wallMs) {
  const total = { pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 };
  for (const e of events) for (const k of Object.keys(total)) total[k] += e[k];
  const seen = new Set(events.map((e) => e.file));
  const missing = files.filter((f) => !seen.has(f));
  const broken = events.filter((e) => !e.ok && e.fail === 0 && e.cancelled === 0);
  const crashed = exits.filter((x) => x.code !== 0 && x.files.every((f) => seen.has(f)) && !events.some((e) => x.files.includes(e.file) && !e.ok));
  console.log(`ℹ tests ${total.pass + total.fail + total.cancelled + total.skipped + total.todo}`);
  console.log(`ℹ files ${files.length} in ${exits.length} worker process(es)`);
  for (const k of ['pass', 'fail', 'cancelled', 'skipped', 'todo']) console.log(`ℹ ${k} ${total[k]}`);
  console.log(`ℹ duration_ms ${wallMs}`);
  const failed = events.filter((e) => e.fail > 0 || e.cancelled > 0);
  if (failed.length || broken.length || missing.length || crashed.length) {
    console.log('\n✖ failing tests:');
    for (const e of failed) for (const f of e.failures) console.log(`✖ ${relative(process.cwd(), e.file)}: ${f.name}\n  ${f.error.split('\n').slice(0, 6).join('\n  ')}`);
    for (const e of failed) if (e.cancelled) console.log(`✖ ${relative(process.cwd(), e.file)}: ${e.cancelled} test(s) cancelled`);
    for (const e of broken) console.log(`✖ ${relative(process.cwd(), e.file)} failed outside its tests: ${(e.error ?? '').split('\n').slice(0, 6).join('\n  ')}`);
    for (const f of missing) console.log(`✖ ${relative(process.cwd(), f)} never finished (its worker died)`);
    for (const x of crashed) console.log(`✖ a worker exited with code ${x.code} after ${x.files.map((f) => relative(process.cwd(), f)).join(', ')}`);
  }
  printSlowest(events.map((e) => ({ ms: e.ms, file: e.file })), 10);
  return failed.length || broken.length || missing.length || crashed.length ? 1 : 0;
}

function printSlowest(timings, n) {
  const rows = timings.map(({ ms, file }) => ({ ms, file: relative(process.cwd(), file) })).sort((a, b) => b.ms - a.ms).slice(0, n);
  if (rows.length < 2) return;
  console.log(`\nslowest ${rows.length} test files:`);
  for (const { ms, file } of rows) console.log(`${(ms / 1000).toFixed(1).padStart(7)} s  ${file}`);
}
