// The main job with no cluster (README's first command): render the mesh's install manifests and
// inject the sample app in examples/shop, writing both under out/, then check the injected app
// offline with the same policy analyzers `mesh check` runs on a live cluster.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';

const mesh = (args) => {
  const r = spawnSync(process.execPath, ['bin/mesh', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) {
    process.stderr.write(r.stderr);
    process.stderr.write(`demo: "mesh ${args.join(' ')}" exited ${r.status}\n`);
    process.exit(r.status ?? 1);
  }
  return r;
};

mkdirSync('out', { recursive: true });
const manifest = mesh(['manifest', 'generate']);
writeFileSync('out/install.yaml', manifest.stdout);
const kinds = [...manifest.stdout.matchAll(/^kind: (\S+)$/gm)].map((m) => m[1]);
console.log(`rendered out/install.yaml: ${kinds.length} objects (${[...new Set(kinds)].join(', ')})`);

const injected = mesh(['inject', '-f', 'examples/shop', '-R']);
writeFileSync('out/shop-injected.yaml', injected.stdout);
process.stderr.write(injected.stderr);
console.log('injected the sample app into out/shop-injected.yaml');

const checked = mesh(['check', '-f', 'out/shop-injected.yaml']);
process.stdout.write(checked.stdout);
// Suggest a command that works as written: "mesh" only once `npm link` put this checkout on PATH.
const linked = spawnSync('mesh', ['version', '--client', '-o', 'json'], { encoding: 'utf8' });
const onPath = linked.status === 0 && linked.stdout.includes('"client"');
const cli = onPath ? 'mesh' : './bin/mesh';
console.log(`next, on a cluster: ${cli} install (it also generates the root CA), then kubectl apply -f out/shop-injected.yaml`);
if (!onPath) console.log('(run "npm link" once to call it "mesh" from anywhere)');
