// `mesh controller` when it cannot listen (issue 16): a port in use, or an --address that is not
// this machine's, is a usage error naming the flag (exit 2), not gRPC's internal text (exit 1) or
// "cannot reach the Kubernetes API server" (exit 3).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listenError } from '../../src/controller/run.ts';
import type { MeshError } from '../../src/errors.ts';
import { runMesh } from '../support/cli.ts';

const manifests = () => {
  const d = mkdtempSync(join(tmpdir(), 'mesh-listen-'));
  writeFileSync(join(d, 'svc.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec:\n  ports: [{name: http, port: 80}]\n');
  return d;
};

test('listenError: in use, privileged and unknown addresses become usage errors naming the flag; others pass through', () => {
  const grpc = new Error('No address added out of total 1 resolved errors: [listen EADDRINUSE: address already in use 0.0.0.0:15010]');
  const cases: [unknown, RegExp, RegExp][] = [
    [grpc, /^--xds-port 15010: 0\.0\.0\.0:15010 is already in use$/, /another port/],
    [Object.assign(new Error('listen EADDRINUSE: address already in use'), { code: 'EADDRINUSE' }), /already in use/, /0 picks a free one/],
    [Object.assign(new Error('listen EACCES: permission denied 0.0.0.0:80'), { code: 'EACCES' }), /permission denied listening on 0\.0\.0\.0:15010/, /below 1024/],
    [Object.assign(new Error('getaddrinfo ENOTFOUND nope'), { code: 'ENOTFOUND' }), /^--address 0\.0\.0\.0: cannot listen on it \(getaddrinfo ENOTFOUND nope\)$/, /IP address of this machine/],
  ];
  for (const [err, msg, hint] of cases) {
    const m = listenError(err, '--xds-port', '0.0.0.0', 15010) as MeshError;
    assert.equal(m.exitCode, 2);
    assert.match(m.message, msg);
    assert.match(m.hint ?? '', hint);
  }
  const other = new Error('boom');
  assert.equal(listenError(other, '--xds-port', '0.0.0.0', 1), other);
});

test('mesh controller: a port in use (gRPC and HTTP servers) and a bad --address exit 2 naming the flag', async () => {
  const holder = createServer().listen(0, '127.0.0.1');
  await once(holder, 'listening');
  const busy = (holder.address() as AddressInfo).port;
  try {
    const dir = manifests();
    const base = ['controller', '--source', 'files', dir, '--address', '127.0.0.1', '--plaintext-xds', '--xds-tls-port', '0', '--webhook-port', '0'];
    const xds = await runMesh([...base, '--xds-port', String(busy), '--metrics-port', '0']);
    assert.equal(xds.code, 2, xds.stderr);
    assert.match(xds.stderr, new RegExp(`error: --xds-port ${busy}: 127\\.0\\.0\\.1:${busy} is already in use`));
    const metrics = await runMesh([...base, '--xds-port', '0', '--metrics-port', String(busy)]);
    assert.equal(metrics.code, 2, metrics.stderr);
    assert.match(metrics.stderr, new RegExp(`error: --metrics-port ${busy}: 127\\.0\\.0\\.1:${busy} is already in use`));
    const address = await runMesh(['controller', '--source', 'files', dir, '--address', 'no-such-host.invalid', '--plaintext-xds', '--xds-port', '0', '--metrics-port', '0']);
    assert.equal(address.code, 2, address.stderr);
    assert.match(address.stderr, /error: --address no-such-host\.invalid: cannot listen on it/);
    assert.doesNotMatch(address.stderr, /Kubernetes API server/);
  } finally {
    holder.close();
  }
});
