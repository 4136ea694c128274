// identity.proxy-certificates reads the certificates the controller serves over SDS from
// /debug/syncz (the shape src/controller/controlplane.ts syncz() has; test/xds/sds.test.ts
// checks a real controller's document parses the same way): each outcome against the test API server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSyncz } from '../../src/checks/syncz.ts';
import { check, proxy, useRoots, CDS, LDS, type Obj } from './live-support.ts';

useRoots();

const HOUR = 3_600_000;
const synced = { [CDS]: { sentVersion: '3', ackedVersion: '3' }, [LDS]: { sentVersion: '3', ackedVersion: '3' } };

/** A proxy whose certificate was issued `ageH` hours ago for 24 h, as the controller reports it. */
function withCert(ageH: number, renewing = true): Obj {
  const from = Date.now() - ageH * HOUR;
  const certificate = { serial: '4a1b', notBefore: new Date(from).toISOString(), notAfter: new Date(from + 24 * HOUR).toISOString(), renewAt: new Date(from + 12 * HOUR).toISOString(), renewing, issued: 1 };
  const identity = { authenticated: true, transport: 'tls', spiffeId: 'spiffe://cluster.local/ns/shop/sa/web', namespace: 'shop', serviceAccount: 'web', pod: 'web-1', certificate };
  return proxy(synced, { identity, certificate, streams: [{ streamId: 1, connectedAt: '2026-01-01T00:00:00Z', types: synced, identity }] });
}

async function outcome(proxies: Obj[]): Promise<{ status: string; message: string; details?: string[]; hint?: string }> {
  const { report } = await check({ syncz: { generation: 3, ready: true, proxies } });
  const c = report.checks.find((x) => x.id === 'identity.proxy-certificates')!;
  return c as unknown as { status: string; message: string; details?: string[]; hint?: string };
}

test('identity.proxy-certificates: pass when current, warn past 80% of the lifetime, fail when expired', async () => {
  const current = await outcome([withCert(2)]);
  assert.equal(current.status, 'pass');
  assert.match(current.message, /1 proxy certificate\(s\) current/);

  const stale = await outcome([withCert(20, false)]);
  assert.equal(stale.status, 'warn');
  assert.match(stale.message, /past 80% of their lifetime without rotation/);
  assert.match(stale.details?.join('\n') ?? '', /shop\/web-1 \(serial 4a1b\): expires .*not renewed/);

  const expired = await outcome([withCert(2), withCert(30)]);
  assert.equal(expired.status, 'fail');
  assert.match(expired.message, /1 proxy certificate\(s\) have expired/);
  assert.ok(expired.hint);
});

test('identity.proxy-certificates: skipped, saying why, when no proxy holds a certificate', async () => {
  const plaintext = proxy(synced, { identity: { authenticated: false, transport: 'plaintext', reason: 'plaintext stream: key material is only sent over TLS (connect to the TLS xDS port)' } });
  const skipped = await outcome([plaintext]);
  assert.equal(skipped.status, 'skip');
  assert.match(skipped.message, /no proxy holds a certificate from the control plane \(1 proxy\(ies\) connected\): plaintext stream/);
  const none = await outcome([]);
  assert.equal(none.status, 'skip');
  assert.match(none.message, /no connected proxies/);
});

test('parseSyncz: the certificate from the proxy entry, else from its newest stream identity; the reason when there is none', () => {
  const cert = { serial: 'ab', notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2026-01-02T00:00:00.000Z', renewing: true };
  const doc = {
    proxies: [
      proxy(synced, { pod: 'a', streams: [{ streamId: 1, types: synced, identity: { authenticated: true, spiffeId: 'spiffe://td/ns/shop/sa/a', certificate: cert } }] }),
      proxy(synced, { pod: 'b', identity: { authenticated: false, reason: 'no ServiceAccount token' } }),
    ],
  };
  const [a, b] = parseSyncz(JSON.stringify(doc), 'mesh-controller-0');
  assert.deepEqual(a!.certificate, { ...cert, spiffeId: 'spiffe://td/ns/shop/sa/a' });
  assert.equal(b!.certificate, undefined);
  assert.equal(b!.identityReason, 'no ServiceAccount token');
});
