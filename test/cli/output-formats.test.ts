import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ROOT } from '../support/cli.ts';

/**
 * The output rule of docs/cli.md, walked over every command and every format: a command either
 * honours -o FORMAT (stdout parses as that format, data or an error document) or refuses it with
 * exit 2 naming the formats it takes. Every command that prints data takes json and yaml.
 */

const tmp = mkdtempSync(join(tmpdir(), 'mesh-formats-'));
// Port 9 (discard) on loopback is closed: commands that need a cluster fail at once with exit 3.
const kubeconfig = join(tmp, 'config');
writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "https://127.0.0.1:9"}\ncontexts:\n- name: ctx\n  context: {cluster: c, user: u}\ncurrent-context: ctx\nusers:\n- name: u\n  user: {token: t}\n`);
const a = join(tmp, 'a.yaml');
const b = join(tmp, 'b.yaml');
writeFileSync(a, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: y}\ndata: {k: one}\n');
writeFileSync(b, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: y}\ndata: {k: two}\n');
// Manifests on disk for the route commands' offline --dry-run: two Services, and a route as
// "mesh route canary" writes it (its mesh.dev/canary annotation names stable and canary).
const services = join(tmp, 'services.yaml');
writeFileSync(services, ['web', 'web-v2'].map((n) => `apiVersion: v1\nkind: Service\nmetadata: {name: ${n}, namespace: shop}\nspec: {ports: [{port: 80}]}\n`).join('---\n'));
const route = join(tmp, 'route.yaml');
writeFileSync(route, [
  'apiVersion: gateway.networking.k8s.io/v1',
  'kind: HTTPRoute',
  'metadata:',
  '  name: web',
  '  namespace: shop',
  '  annotations:',
  `    mesh.dev/canary: '{"service":"web","stable":"web","canary":"web-v2","stablePort":80,"canaryPort":80,"matchHeaders":[]}'`,
  'spec:',
  '  parentRefs: [{group: "", kind: Service, name: web}]',
  '  rules:',
  '  - backendRefs: [{group: "", kind: Service, name: web, port: 80, weight: 90}, {group: "", kind: Service, name: web-v2, port: 80, weight: 10}]',
  '',
].join('\n'));

const DATA = ['table', 'wide', 'json', 'yaml'];
const TABLE = ['table', 'json', 'yaml'];
const OBJECTS = ['table', 'json', 'yaml', 'name'];
/** Each command line with the formats it must take; every other format is refused with exit 2. */
const COMMANDS: { args: string[]; formats: string[] }[] = [
  { args: ['install', '--dry-run'], formats: OBJECTS },
  { args: ['upgrade', '--dry-run'], formats: OBJECTS },
  { args: ['uninstall', '--dry-run'], formats: OBJECTS },
  { args: ['manifest', 'generate'], formats: ['yaml', 'json', 'name'] },
  { args: ['manifest', 'diff', a, b], formats: TABLE },
  { args: ['profile', 'list'], formats: DATA },
  { args: ['profile', 'show', 'demo'], formats: ['yaml', 'json'] },
  { args: ['check', '-f', 'examples/shop'], formats: ['table', 'json', 'yaml', 'junit', 'sarif'] },
  { args: ['inject', '-f', 'examples/shop/frontend.yaml'], formats: ['yaml', 'json'] },
  { args: ['uninject', '-f', 'examples/shop/frontend.yaml'], formats: ['yaml', 'json'] },
  { args: ['route', 'canary', 'web', '--canary', 'web-v2', '--weight', '20', '--dry-run', '-n', 'shop', '-f', services], formats: TABLE },
  { args: ['route', 'set', 'web', 'web=50', 'web-v2=50', '--dry-run', '-n', 'shop', '-f', route], formats: TABLE },
  { args: ['route', 'promote', 'web', '--dry-run', '-n', 'shop', '-f', route], formats: TABLE },
  { args: ['route', 'rollback', 'web', '--dry-run', '-n', 'shop', '-f', route], formats: TABLE },
  { args: ['route', 'show', 'web'], formats: TABLE },
  { args: ['route', 'status', 'web'], formats: TABLE },
  { args: ['stat', 'deploy'], formats: DATA },
  { args: ['edges', 'deploy'], formats: DATA },
  { args: ['proxy-status'], formats: DATA },
  { args: ['proxy-config', 'cluster', 'frontend', '-n', 'shop', '-f', 'examples/shop'], formats: TABLE },
  { args: ['version'], formats: TABLE },
  { args: ['controller', '--source', 'files', 'examples/shop'], formats: [] },
  { args: ['grpc-agent', '--once'], formats: [] },
  { args: ['dashboard', '-f', 'examples/shop', '--no-open'], formats: [] },
  { args: ['proxy-init', '--dry-run'], formats: [] },
  { args: ['completion', 'bash'], formats: [] },
];
const TRIED = ['table', 'wide', 'json', 'yaml', 'name', 'junit', 'xml'];

interface Run {
  args: string[];
  format: string;
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run every command line in one process (the built CLI's main, stdout and stderr captured per run):
 * ~175 runs, where a process each would take minutes on a busy machine.
 */
function runAll(): Run[] {
  const plan = COMMANDS.flatMap((c) => TRIED.map((format) => ({ args: [...c.args, '--kubeconfig', kubeconfig, '-o', format], format })));
  const planFile = join(tmp, 'plan.json');
  const outFile = join(tmp, 'runs.json');
  writeFileSync(planFile, JSON.stringify(plan));
  const driver = `
    import { readFileSync, writeFileSync } from 'node:fs';
    const { main } = await import(${JSON.stringify(join(ROOT, 'dist/cli.js'))});
    const plan = JSON.parse(readFileSync(${JSON.stringify(planFile)}, 'utf8'));
    const runs = [];
    const out = process.stdout.write.bind(process.stdout);
    const err = process.stderr.write.bind(process.stderr);
    for (const p of plan) {
      let stdout = '', stderr = '';
      process.stdout.write = (s) => { stdout += String(s); return true; };
      process.stderr.write = (s) => { stderr += String(s); return true; };
      process.exitCode = undefined;
      try { await main(['node', 'mesh', ...p.args]); } finally {
        process.stdout.write = out;
        process.stderr.write = err;
        process.stdout.removeAllListeners('error');
      }
      runs.push({ ...p, code: process.exitCode ?? 0, stdout, stderr });
    }
    process.exitCode = 0;
    writeFileSync(${JSON.stringify(outFile)}, JSON.stringify(runs));
  `;
  execFileSync(process.execPath, ['--input-type=module', '-e', driver], { cwd: ROOT, env: { ...process.env, HOME: '/nonexistent-home', KUBECONFIG: '', NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'inherit'], timeout: 300_000 });
  return JSON.parse(readFileSync(outFile, 'utf8')) as Run[];
}

const REFUSED = /output format|takes no -o|does not print -o/;

test('every command honours -o json|yaml (wide, name where it lists) or refuses a format with exit 2 naming the ones it takes', () => {
  const runs = runAll();
  const problems: string[] = [];
  for (const r of runs) {
    const spec = COMMANDS.find((c) => r.args.slice(0, c.args.length).join(' ') === c.args.join(' '))!;
    const what = `mesh ${spec.args.map((x) => (x.startsWith(tmp) ? x.slice(tmp.length + 1) : x)).join(' ')} -o ${r.format} (exit ${r.code})`;
    if (!spec.formats.includes(r.format)) {
      if (r.code !== 2 || !REFUSED.test(r.stderr)) problems.push(`${what}: should be refused with exit 2, stderr: ${r.stderr.slice(0, 200)}`);
      else if (spec.formats.length > 0 && !r.stderr.includes(`use one of: ${spec.formats.join(', ')}`)) problems.push(`${what}: refusal does not name ${spec.formats.join(', ')}: ${r.stderr}`);
      else if (r.stdout !== '') problems.push(`${what}: a refused format prints nothing on stdout, got ${r.stdout.slice(0, 100)}`);
      continue;
    }
    if (REFUSED.test(r.stderr)) {
      problems.push(`${what}: refused a format it must take: ${r.stderr.slice(0, 200)}`);
      continue;
    }
    if (r.format === 'json') {
      try {
        const doc = JSON.parse(r.stdout) as { error?: { message?: string; exitCode?: number } };
        if (r.code !== 0 && r.code !== 1 && typeof doc.error?.message !== 'string') problems.push(`${what}: an error under -o json prints an error object, got ${r.stdout.slice(0, 100)}`);
      } catch {
        problems.push(`${what}: stdout is not one JSON document: ${r.stdout.slice(0, 100)}`);
      }
    } else if (r.format === 'yaml') {
      const docs = parseAllDocuments(r.stdout);
      if (r.stdout.trim() === '' || docs.some((d) => d.errors.length > 0)) problems.push(`${what}: stdout is not YAML: ${r.stdout.slice(0, 100)}`);
      else if (r.code > 1 && !docs.some((d) => typeof (d.toJS() as { error?: { message?: unknown } } | null)?.error?.message === 'string')) problems.push(`${what}: an error under -o yaml prints an error object`);
    } else if (r.format === 'name') {
      const bad = r.stdout.split('\n').filter((l) => l !== '' && !/^[a-z]+(\.[a-z0-9.-]+)?\/[a-z0-9.-]+$/.test(l));
      if (bad.length) problems.push(`${what}: -o name prints kind[.group]/name lines, got ${bad[0]}`);
    }
  }
  assert.deepEqual(problems, []);
});
