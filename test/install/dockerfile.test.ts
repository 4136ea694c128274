import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../support/cli.ts';
import { COMMANDS } from '../../src/commands/index.ts';
import { loadTemplates } from '../../src/install/templates.ts';

// No Docker here: check the Dockerfile's structure instead of building it.
const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

test('Dockerfile is multi-stage on node:20 and builds with npm ci and the build script', () => {
  const froms = lines.filter((l) => l.startsWith('FROM '));
  assert.ok(froms.length >= 2, 'multi-stage');
  for (const f of froms) assert.match(f, /^FROM node:20[\w.-]*( AS \w+)?$/);
  assert.ok(lines.some((l) => /^RUN npm ci\b/.test(l)));
  assert.ok(lines.some((l) => l === 'RUN npm run build'));
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  assert.ok(pkg.scripts.build);
});

test('every path the Dockerfile COPYs from the context exists and is not .dockerignored', () => {
  const copies = lines.filter((l) => l.startsWith('COPY ') && !l.includes('--from='));
  assert.ok(copies.length > 0);
  for (const c of copies) {
    const parts = c.split(/\s+/).slice(1);
    for (const src of parts.slice(0, -1)) {
      assert.ok(existsSync(join(ROOT, src)), `COPY source ${src} does not exist`);
      assert.ok(!ignored.includes(src), `COPY source ${src} is in .dockerignore`);
    }
  }
});

test('the runtime image holds everything the package ships (package.json "files"): dist, bin, templates, proto', () => {
  const runtime = text.slice(text.lastIndexOf('\nFROM '));
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
  for (const f of pkg.files) assert.match(runtime, new RegExp(`^COPY (--from=\\w+ )?\\S*\\b${f}\\b\\S* \\./${f}\\b`, 'm'), `the runtime stage does not COPY ${f}`);
});

test('the image has iptables: the injected mesh-init container runs it for mesh proxy-init', () => {
  assert.ok(lines.some((l) => /^RUN .*apt-get install .*\biptables\b/.test(l)));
});

test('the image runs as a non-root user, the one the Deployment expects', () => {
  const user = lines.filter((l) => l.startsWith('USER ')).at(-1);
  assert.ok(user, 'USER is set');
  const uid = user!.split(/\s+/)[1]!.split(':')[0]!;
  assert.notEqual(uid, 'root');
  assert.notEqual(uid, '0');
  const deploy = readFileSync(join(ROOT, 'templates/controller.yaml'), 'utf8');
  assert.match(deploy, new RegExp(`runAsUser: ${uid}\\b`));
});

test('the ENTRYPOINT runs bin/mesh controller, and the launcher exists', () => {
  const ep = lines.find((l) => l.startsWith('ENTRYPOINT '));
  assert.ok(ep);
  const argv = JSON.parse(ep!.slice('ENTRYPOINT '.length)) as string[];
  assert.deepEqual(argv.slice(0, 2), ['node', 'bin/mesh']);
  assert.ok(existsSync(join(ROOT, argv[1]!)));
  assert.equal(argv[2], 'controller');
});

test('the CLI has the command the ENTRYPOINT runs, and it accepts every flag the Deployment passes', async () => {
  assert.ok(COMMANDS.some((c) => c.name === 'controller'));
  const { runMesh } = await import('../support/cli.ts');
  const { renderManifests } = await import('../../src/manifests/render.ts');
  const { resolveValues } = await import('../../src/manifests/values.ts');
  const help = await runMesh(['controller', '--help']);
  assert.equal(help.code, 0, help.stderr);
  const d = renderManifests(resolveValues(), loadTemplates()).find((o) => o.kind === 'Deployment') as any;
  for (const flag of (d.spec.template.spec.containers[0].args as string[]).filter((a) => a.startsWith('--'))) {
    assert.match(help.stdout, new RegExp(`${flag}\\b`), `mesh controller has no ${flag}`);
  }
});
