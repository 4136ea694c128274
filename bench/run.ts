// `npm run bench [-- NAME...]`: runs every bench/*.bench.ts (or those whose file name contains
// NAME), prints a table and writes bench/results.json. Exits 1 when a target is missed.
import { readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { renderTable } from '../src/ui/output.ts';
import type { Benchmark, BenchResult } from './harness.ts';

const dir = fileURLToPath(new URL('.', import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

const all: (BenchResult & { benchmark: string })[] = [];
for (const f of files) {
  const { benchmark } = (await import(pathToFileURL(join(dir, f)).href)) as { benchmark: Benchmark };
  process.stderr.write(`running ${benchmark.name}...\n`);
  for (const r of await benchmark.run()) all.push({ benchmark: benchmark.name, ...r });
}

process.stdout.write(
  renderTable(all, [
    { header: 'Benchmark', value: (r) => r.benchmark },
    { header: 'Measure', value: (r) => r.name },
    { header: 'Value', value: (r) => `${Number(r.value.toFixed(r.value < 10 ? 2 : 1))} ${r.unit}` },
    { header: 'Target', value: (r) => (r.target ? `<= ${r.target.max} ${r.unit}` : '-') },
    { header: 'Result', value: (r) => (r.pass === undefined ? '' : r.pass ? 'ok' : 'MISSED') },
    { header: 'Detail', value: (r) => r.detail ?? '' },
  ]),
);
writeFileSync(join(dir, 'results.json'), JSON.stringify({ date: new Date().toISOString(), node: process.version, results: all }, null, 2) + '\n');
if (all.some((r) => r.pass === false)) process.exitCode = 1;
