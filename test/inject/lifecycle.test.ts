import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../src/cluster/types.ts';
import { envoyBootstrap, bootstrapSettings } from '../../src/manifests/bootstrap.ts';
import { injectObject, uninjectObject, type Container } from '../../src/manifests/inject.ts';
import { DRAIN_INBOUND_PATH } from '../../src/manifests/inject/lifecycle.ts';
import { resolveValues, type Values } from '../../src/manifests/values.ts';
import { buildModel } from '../../src/model/index.ts';
import { envoyRoot, protoDepsDir, TYPE } from '../../src/xds/protos.ts';
import { strictCheck, strictCheckJson } from '../../src/xds/encode.ts';
import { sidecarResources } from '../../src/xds/translate.ts';
import { analyze } from '../../src/analyzers/index.ts';

/** Jobs finish with a classic sidecar, and the proxy drains inbound before it stops (issue 21, points 1 and 2). */

const job = (spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'migrate', namespace: 'shop' },
  spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'app', image: 'example/migrate:1' }], ...spec } } },
});
const podSpec = (o: KubeObject) => (o.spec as { template: { spec: { containers: Container[]; initContainers?: Container[]; shareProcessNamespace?: boolean } } }).template.spec;
const proxyOf = (o: KubeObject) => [...podSpec(o).containers, ...(podSpec(o).initContainers ?? [])].find((c) => c.name === 'mesh-proxy')!;
const preStopOf = (c: Container) => (c.lifecycle as { preStop: { exec: { command: string[] } } }).preStop.exec.command;

function fakeEnvoyDir(): { dir: string; log: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mesh-lifecycle-'));
  const log = join(dir, 'envoy.log');
  // Stands in for Envoy: records its arguments, exits 0 on SIGTERM as Envoy does.
  writeFileSync(join(dir, 'envoy'), `#!/bin/bash\necho "args $*" >> ${log}\ntrap 'echo term >> ${log}; exit 0' TERM\nwhile :; do sleep 5 & wait $!; done\n`);
  chmodSync(join(dir, 'envoy'), 0o755);
  return { dir, log };
}

function fakeProc(root: string, entries: Record<string, string>): string {
  const proc = join(root, 'proc');
  for (const [pid, cgroup] of Object.entries(entries)) {
    mkdirSync(join(proc, pid), { recursive: true });
    writeFileSync(join(proc, pid, 'cgroup'), cgroup);
  }
  return proc;
}

test('a Job with a classic sidecar: the pod shares its PID namespace and the proxy stops (exit 0) once the app containers have exited', async () => {
  const { object } = injectObject(job(), resolveValues(), { nativeSidecar: false });
  assert.equal(podSpec(object).shareProcessNamespace, true);
  const proxy = proxyOf(object);
  const { dir, log } = fakeEnvoyDir();
  // Own container "/", the sandbox's pause as PID 1 (ignored), the app container elsewhere.
  const proc = fakeProc(dir, { self: '0::/\n', '1': '0::/../pause\n', '7': '0::/\n', '42': '0::/../app\n' });
  const [cmd, ...args] = proxy.command as string[];
  const child = spawn(cmd!, args, { env: { PATH: `${dir}:${process.env.PATH}`, MESH_PROC: proc, MESH_POLL: '0.02' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  const sawApp = new Promise<void>((resolve) => child.stderr.on('data', (d: string) => {
    stderr += d;
    if (stderr.includes('app containers running')) resolve();
  }));
  await sawApp;
  assert.equal(child.exitCode, null, 'the proxy runs while the app does');
  rmSync(join(proc, '42'), { recursive: true });
  const [code] = await once(child, 'exit');
  assert.equal(code, 0, stderr);
  const lines = readFileSync(log, 'utf8').trim().split('\n');
  assert.deepEqual(lines, [`args ${args.slice(4).join(' ')}`, 'term']);
  assert.match(lines[0]!, /-c \/etc\/mesh\/proxy\/envoy-bootstrap\.json .*--drain-time-s 5 --drain-strategy immediate/);
  rmSync(dir, { recursive: true, force: true });
});

test('only run-to-completion pods with a classic sidecar get the watch; uninject removes it exactly', () => {
  const values = resolveValues();
  assert.equal(podSpec(injectObject(job(), values, { nativeSidecar: true }).object).shareProcessNamespace, undefined, 'native sidecars end with the pod already');
  const deploy = { ...job(), apiVersion: 'apps/v1', kind: 'Deployment', spec: { selector: {}, template: { spec: { containers: [{ name: 'app', image: 'a' }] } } } } as KubeObject;
  const d = injectObject(deploy, values, { nativeSidecar: false }).object;
  assert.equal(podSpec(d).shareProcessNamespace, undefined);
  assert.deepEqual(proxyOf(d).command, ['envoy']);
  const injected = injectObject(job(), values, { nativeSidecar: false }).object;
  assert.deepEqual(uninjectObject(injected).object, job());
  const refused = injectObject(job({ shareProcessNamespace: false }), values, { nativeSidecar: false });
  assert.deepEqual(proxyOf(refused.object).command, ['envoy']);
  assert.ok(refused.report.notes.some((n) => n.includes('will not complete')), refused.report.notes.join('\n'));
});

test('mesh check warns (MSH0018) about a meshed Job whose classic proxy keeps it running, and not about one that finishes', () => {
  const values = resolveValues();
  const finishes = injectObject(job(), values, { nativeSidecar: false }).object;
  const refused = injectObject({ ...job({ shareProcessNamespace: false }), metadata: { name: 'hangs', namespace: 'shop' } }, values, { nativeSidecar: false }).object;
  // Injected by an earlier mesh (no exitWithApp in its status): the proxy never exits.
  const old = structuredClone(finishes);
  old.metadata.name = 'old';
  const ann = (old.spec as { template: { metadata: { annotations: Record<string, string> } } }).template.metadata.annotations;
  const status = JSON.parse(ann['mesh.dev/status']!) as Record<string, unknown>;
  delete status.exitWithApp;
  ann['mesh.dev/status'] = JSON.stringify(status);
  const cron: KubeObject = { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'nightly', namespace: 'shop' }, spec: { schedule: '0 1 * * *', jobTemplate: { spec: (old.spec as object) } } };
  const findings = analyze([finishes, refused, old, cron].map((object) => ({ object }))).findings.filter((f) => f.code === 'MSH0018');
  assert.deepEqual(findings.map((f) => `${f.resource.kind}/${f.resource.name}`).sort(), ['CronJob/nightly', 'Job/hangs', 'Job/old']);
  assert.match(findings[0]!.message, /never completes|keeps .* running/);
});

function drainScriptRun(values: Values, proxy: Container, env: Record<string, string>): Promise<number> {
  const [cmd, ...args] = preStopOf(proxy);
  const child = spawn(cmd!, args, { env: { PATH: process.env.PATH!, MESH_POLL: '0.02', ...env }, stdio: 'ignore' });
  void values;
  return once(child, 'exit').then(([code]) => code as number);
}

test('termination: the preStop drains inbound first, then returns only once Envoy holds no connection, at least drainDuration', async () => {
  const seen: string[] = [];
  let polls = 0;
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (req.url?.startsWith('/stats')) {
      polls++;
      // The app's connections close one poll at a time; the last poll sees only kubelet's probe.
      res.end(`server.total_connections: ${Math.max(1, 4 - polls)}\n`);
    } else res.end('OK\n');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const values = resolveValues({ sets: [`proxy.adminPort=${port}`, 'proxy.drainDuration=0s'] });
  const deploy: KubeObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop' }, spec: { selector: {}, template: { spec: { containers: [{ name: 'web', image: 'w' }] } } } };
  const proxy = proxyOf(injectObject(deploy, values, { nativeSidecar: false }).object);
  const code = await drainScriptRun(values, proxy, {});
  server.close();
  assert.equal(code, 0);
  assert.equal(seen[0], `POST ${DRAIN_INBOUND_PATH}`, 'inbound drain starts before anything else');
  assert.deepEqual(seen.slice(1), Array(3).fill('GET /stats?filter=%5Eserver%5C.total_connections%24'), 'waits while connections remain, stops at the probe\'s one');
  // The drain only touches INBOUND listeners: the outbound listener keeps the app's calls working.
  assert.ok(DRAIN_INBOUND_PATH.includes('inboundonly'));
});

test('a Job pod\'s preStop waits for the app processes, not for connections', async () => {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.end('OK\n');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const values = resolveValues({ sets: [`proxy.adminPort=${port}`, 'proxy.drainDuration=0s'] });
  const proxy = proxyOf(injectObject(job(), values, { nativeSidecar: false }).object);
  const dir = mkdtempSync(join(tmpdir(), 'mesh-prestop-'));
  const proc = fakeProc(dir, { self: '0::/\n', '1': '0::/../pause\n' });
  const code = await drainScriptRun(values, proxy, { MESH_PROC: proc });
  server.close();
  rmSync(dir, { recursive: true, force: true });
  assert.equal(code, 0);
  assert.deepEqual(seen, [`POST ${DRAIN_INBOUND_PATH}`]);
});

test('the drain settings are valid Envoy config: inbound listeners INBOUND, outbound OUTBOUND, the bootstrap\'s own listeners outside the inbound drain', () => {
  const root = envoyRoot();
  for (const f of ['envoy/config/bootstrap/v3/bootstrap.proto', 'envoy/config/grpc_credential/v3/file_based_metadata.proto']) root.loadSync(join(protoDepsDir(), 'envoy-api', f), { keepCase: true });
  root.resolveAll();
  const values = resolveValues({ sets: ['proxy.adminPort=15555'] });
  const boot = envoyBootstrap({ ...bootstrapSettings(values, '0.1.0', []), pod: { name: 'web-1', namespace: 'shop', ip: '10.0.0.7', serviceAccount: 'web' } }) as { admin: unknown; static_resources: { listeners: { traffic_direction?: string }[] } };
  assert.deepEqual(strictCheckJson('envoy.config.bootstrap.v3.Bootstrap', boot), []);
  // The preStop talks to the admin port the bootstrap opens, on localhost.
  assert.deepEqual(boot.admin, { address: { socket_address: { address: '127.0.0.1', port_value: 15555 } } });
  assert.ok(boot.static_resources.listeners.every((l) => l.traffic_direction === undefined), 'readiness and stats keep answering during the drain');
  const objects = parseAllDocuments(readFileSync(new URL('../fixtures/xds/shop.yaml', import.meta.url), 'utf8')).map((d) => d.toJS() as KubeObject);
  const res = sidecarResources(buildModel(objects), { id: 's', kind: 'sidecar', namespace: 'shop', pod: 'catalog-1' });
  const listeners = Object.values(res[TYPE.listener] ?? {}) as { name: string; traffic_direction?: string }[];
  assert.ok(listeners.length > 1);
  for (const l of listeners) {
    assert.deepEqual(strictCheck(TYPE.listener, l), []);
    // The stats listener has no direction: the inbound drain leaves it answering scrapes.
    if (l.name === 'prometheus') assert.equal(l.traffic_direction, undefined);
    else assert.ok(l.traffic_direction === 'INBOUND' || l.traffic_direction === 'OUTBOUND', `${l.name} has a direction`);
  }
  assert.ok(listeners.some((l) => l.traffic_direction === 'OUTBOUND'));
});
