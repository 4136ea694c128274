// Run by `npm run build` after tsc: records what `mesh --help`, `mesh COMMAND --help` and
// `mesh version --client` print when stdout is not a terminal, into dist/cli-cache.json, so
// bin/mesh can print it without loading the CLI (docs/bench.md, "Cold start"). Each answer is
// recorded under two different environments and kept only when both agree, so nothing the user's
// environment could change is ever served from the cache. The cache names the dist/cli.js build it
// came from; bin/mesh ignores it after any other build (e.g. a bare `tsc`).
import { spawnSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = `${root}bin/mesh`;
const cli = `${root}dist/cli.js`;
const { COMMANDS } = await import(pathToFileURL(`${root}dist/commands/index.js`).href);
const cases = [['--help'], ['help'], ['version', '--client'], ...COMMANDS.map((c) => [c.name, '--help'])];
const envs = [
  { PATH: process.env.PATH, HOME: '/nonexistent-home' },
  { PATH: process.env.PATH, HOME: root, KUBECONFIG: '/nonexistent/kubeconfig', POD_NAMESPACE: 'elsewhere', NO_COLOR: '1', FORCE_COLOR: '1', COLUMNS: '200', MESH_CLI_CACHE: 'off' },
];
const entries = {};
for (const args of cases) {
  const runs = envs.map((env) => spawnSync(process.execPath, [bin, ...args], { env: { ...env, MESH_CLI_CACHE: 'off' }, encoding: 'utf8' }));
  const [a, b] = runs;
  if (a.status !== b.status || a.stdout !== b.stdout || a.stderr !== b.stderr) {
    process.stderr.write(`cli cache: mesh ${args.join(' ')} depends on the environment; not cached\n`);
    continue;
  }
  entries[args.join('\u0000')] = { out: a.stdout, err: a.stderr, code: a.status };
}
writeFileSync(`${root}dist/cli-cache.json`, JSON.stringify({ build: statSync(cli).mtimeMs, entries }) + '\n');
