// `npm run bench [-- NAME...]`: runs every bench/*.bench.ts (or those whose file name contains
// NAME), prints a table with each measure next to its goal and writes bench/results.json. Exits 1
// when a goal is missed by more than harness.ts's TOLERANCE (a regression); a smaller miss is printed.
import { readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { renderTable } from '../src/ui/output.ts';
import { judge, TOLERANCE, verdictText, type Benchmark, type BenchResult } from './harness.ts';

const dir = fileURLToPath(new URL('.', import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

const all: (BenchResult & { benchmark: string; verdict?: string })[] = [];
for (const f of files) {
  const { benchmark } = (await import(pathToFileURL(join(dir, f)).href)) as { benchmark: Benchmark };
  process.stderr.write(`running ${benchmark.name}...\n`);
  for (const r of await benchmark.run()) {
    const v = judge(r);
    all.push({ benchmark: benchmark.name, ...r, ...(v === undefined ? {} : { pass: v === 'ok', verdict: v }) });
  }
}

process.stdout.write(
  renderTable(all, [
    { header: 'Benchmark', value: (r) => r.benchmark },
    { header: 'Measure', value: (r) => r.name },
    { header: 'Value', value: (r) => `${Number(r.value.toFixed(r.value < 10 ? 2 : 1))} ${r.unit}` },
    { header: 'Goal', value: (r) => (r.target ? `<= ${r.target.max} ${r.unit}` : '-') },
    { header: 'Result', value: (r) => verdictText(r) },
    { header: 'Detail', value: (r) => r.detail ?? '' },
  ]),
);
writeFileSync(join(dir, 'results.json'), JSON.stringify({ date: new Date().toISOString(), node: process.version, results: all }, null, 2) + '\n');
const regressed = all.filter((r) => judge(r) === 'regressed');
if (regressed.length > 0) {
  process.stderr.write(`${regressed.length} goal(s) missed by more than ${TOLERANCE * 100}%: ${regressed.map((r) => `${r.benchmark}: ${r.name}`).join('; ')}\n`);
  process.exitCode = 1;
}
