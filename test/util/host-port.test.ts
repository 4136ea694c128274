import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHostPort } from '../../src/util/host-port.ts';

test('parseHostPort: DNS names, IPv4 and bracketed IPv6 with a port 1-65535; anything else is not host:port', () => {
  assert.deepEqual(parseHostPort('jaeger-collector.mesh-system.svc:4317'), { host: 'jaeger-collector.mesh-system.svc', port: 4317 });
  assert.deepEqual(parseHostPort('10.0.0.7:9411'), { host: '10.0.0.7', port: 9411 });
  assert.deepEqual(parseHostPort('[fd00::1]:4317'), { host: 'fd00::1', port: 4317 });
  for (const bad of ['jaeger', 'jaeger:', ':4317', 'jaeger:0', 'jaeger:65536', 'a..b:1', '-a:1', 'fd00::1:4317', 'http://jaeger:4317', 'jaeger:43 17', `${'a'.repeat(64)}.svc:1`]) {
    assert.equal(parseHostPort(bad), undefined, bad);
  }
});
