// test: own process (it patches net and dns for the whole process and records every connection: another file's leftover client in a shared worker would count; scripts/test.mjs)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dns from 'node:dns';
import net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../src/cluster/types.ts';
import { meshImages } from '../../src/install/images.ts';
import { loadTemplates } from '../../src/install/templates.ts';
import { injectObject, uninjectObject } from '../../src/manifests/inject.ts';
import { withRegistry } from '../../src/manifests/images.ts';
import { renderManifests } from '../../src/manifests/render.ts';
import { resolveValues } from '../../src/manifests/values.ts';
import { runMeshInProcess } from '../support/cli.ts';

/** Air-gapped installs (issue 21 point 6): one image list, one registry, one set of pull secrets, no calls out. */

type Pod = { containers?: { image?: string }[]; initContainers?: { image?: string }[]; imagePullSecrets?: { name: string }[] };
const deploy: KubeObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop' }, spec: { selector: {}, template: { spec: { containers: [{ name: 'web', image: 'example/web:1' }] } } } };
const podSpecs = (objects: KubeObject[]): Pod[] => objects.flatMap((o) => {
  const t = (o.spec as { template?: { spec?: Pod } } | undefined)?.template?.spec;
  return t ? [t] : [];
});
const meshImagesIn = (pods: Pod[]) => new Set(pods.flatMap((p) => [...(p.containers ?? []), ...(p.initContainers ?? [])].map((c) => c.image!)).filter((i) => i !== 'example/web:1'));

test('withRegistry swaps the registry part only', () => {
  assert.equal(withRegistry('envoyproxy/envoy:v1.32.3', 'reg.local:5000/mirror'), 'reg.local:5000/mirror/envoyproxy/envoy:v1.32.3');
  assert.equal(withRegistry('ghcr.io/mesh-dev/mesh:0.1.0', 'reg.local:5000/mirror/'), 'reg.local:5000/mirror/mesh-dev/mesh:0.1.0');
  assert.equal(withRegistry('localhost/mesh:1', 'r.io'), 'r.io/mesh:1');
  assert.equal(withRegistry('busybox', ''), 'busybox');
});

test('the image list is exactly what rendering and injection use; global.registry and global.imagePullSecrets reach every pod', () => {
  for (const sets of [[], ['global.registry=reg.local:5000/mirror', 'global.imagePullSecrets=mirror-pull, other']]) {
    const values = resolveValues({ sets });
    const injected = injectObject(deploy, values, { nativeSidecar: false }).object;
    const native = injectObject(deploy, values, { nativeSidecar: true }).object;
    const pods = podSpecs([...renderManifests(values, loadTemplates()), injected, native]);
    assert.deepEqual(meshImagesIn(pods), new Set(meshImages(values).map((i) => i.image)));
    if (sets.length) {
      for (const i of meshImages(values)) assert.match(i.image, /^reg\.local:5000\/mirror\//);
      for (const p of pods) assert.deepEqual(p.imagePullSecrets, [{ name: 'mirror-pull' }, { name: 'other' }]);
      assert.deepEqual(uninjectObject(injected).object, deploy, 'uninject removes the pull secrets it added');
    }
  }
});

test('mesh manifest images: table and -o json, digests where the reference pins one', async () => {
  const digest = 'sha256:' + 'a'.repeat(64);
  const r = await runMeshInProcess(['manifest', 'images', '--set', 'global.registry=reg.local:5000/mirror', '--set', `proxy.image=envoyproxy/envoy@${digest}`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^COMPONENT\s+IMAGE\s+DIGEST\n/);
  assert.match(r.stdout, new RegExp(`proxy\\s+reg\\.local:5000/mirror/envoyproxy/envoy@${digest}\\s+${digest}`));
  assert.match(r.stdout, /controller\s+reg\.local:5000\/mirror\/mesh-dev\/mesh:\S+\s+-/);
  const j = await runMeshInProcess(['manifest', 'images', '-o', 'json']);
  assert.deepEqual((JSON.parse(j.stdout) as { images: { component: string }[] }).images.map((i) => i.component), ['controller', 'proxy', 'proxyInit']);
  const bad = await runMeshInProcess(['manifest', 'images', '--set', 'global.registry=not a registry']);
  assert.equal(bad.code, 2);
});

test('nothing phones home: render, images, inject and offline check open no connection and resolve no name', async () => {
  const calls: string[] = [];
  const connect = net.Socket.prototype.connect;
  const lookup = dns.lookup;
  const lookupP = dns.promises.lookup;
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    calls.push(`connect ${JSON.stringify(args[0])}`);
    return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof connect;
  (dns as { lookup: unknown }).lookup = (...args: unknown[]) => {
    calls.push(`lookup ${String(args[0])}`);
    return (lookup as (...a: unknown[]) => void)(...args);
  };
  (dns.promises as { lookup: unknown }).lookup = (...args: unknown[]) => {
    calls.push(`lookup ${String(args[0])}`);
    return (lookupP as (...a: unknown[]) => Promise<unknown>)(...args);
  };
  const dir = mkdtempSync(join(tmpdir(), 'mesh-airgap-'));
  try {
    const file = join(dir, 'web.yaml');
    writeFileSync(file, JSON.stringify(deploy));
    const env = { KUBECONFIG: join(dir, 'none'), HTTPS_PROXY: undefined, HTTP_PROXY: undefined };
    for (const args of [['manifest', 'generate', '--generate-ca'], ['manifest', 'images'], ['inject', '-f', file, '--kube-version', '1.28'], ['check', '-f', file]]) {
      const r = await runMeshInProcess(args, { env });
      assert.ok(r.code === 0 || (args[0] === 'check' && r.code === 1), `${args.join(' ')}: ${r.stderr}`);
    }
  } finally {
    net.Socket.prototype.connect = connect;
    (dns as { lookup: unknown }).lookup = lookup;
    (dns.promises as { lookup: unknown }).lookup = lookupP;
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(calls, []);
});
