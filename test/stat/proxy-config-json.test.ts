import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toProto3Json } from '../../src/xds/json.ts';
import { TYPE } from '../../src/xds/protos.ts';
import { runMesh } from '../support/cli.ts';

// proxy-config -o json prints canonical proto3 JSON, as Envoy's config_dump does, so users can diff it against a real Envoy.

test('Durations, wrapper types, enums and Anys print as canonical proto3 JSON', () => {
  const cluster = {
    name: 'outbound|80||web.shop.svc.cluster.local',
    connect_timeout: { seconds: 10, nanos: 0 },
    per_connection_buffer_limit_bytes: { value: 32768 },
    lb_policy: 1,
    common_http_protocol_options: { idle_timeout: { seconds: '1', nanos: 500_000_000 } },
    transport_socket: {
      name: 'envoy.transport_sockets.tls',
      typed_config: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', sni: 'web', max_session_keys: { value: 0 } },
    },
  };
  assert.deepEqual(toProto3Json(TYPE.cluster, cluster), {
    name: 'outbound|80||web.shop.svc.cluster.local',
    connect_timeout: '10s',
    per_connection_buffer_limit_bytes: 32768,
    lb_policy: 'LEAST_REQUEST',
    common_http_protocol_options: { idle_timeout: '1.500s' },
    transport_socket: {
      name: 'envoy.transport_sockets.tls',
      typed_config: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', sni: 'web', max_session_keys: 0 },
    },
  });
  const listener = toProto3Json(TYPE.listener, { name: 'virtualOutbound', use_original_dst: { value: true }, listener_filters_timeout: { seconds: 0, nanos: 1000 } }) as Record<string, unknown>;
  assert.equal(listener.use_original_dst, true);
  assert.equal(listener.listener_filters_timeout, '0.000001s');
});

/** Every place in `v` that still holds a {seconds, nanos} Duration or a {value} wrapper. */
function leftovers(v: unknown, path = '$'): string[] {
  if (Array.isArray(v)) return v.flatMap((x, i) => leftovers(x, `${path}[${i}]`));
  if (typeof v !== 'object' || v === null) return [];
  const keys = Object.keys(v).sort().join(',');
  if (keys === 'value' || keys === 'seconds' || keys === 'nanos,seconds') return [path];
  return Object.entries(v).flatMap(([k, x]) => leftovers(x, `${path}.${k}`));
}

test('proxy-config all -o json of examples/shop has no {seconds, nanos} or {"value": x} left', async () => {
  const r = await runMesh(['proxy-config', 'all', 'frontend', '-n', 'shop', '-f', 'examples/shop', '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  // Envoy's ConfigDump: clusters and listeners inside their per-type dumps.
  const doc = JSON.parse(r.stdout) as { configs: { dynamic_active_clusters?: { cluster: { connect_timeout?: unknown } }[]; dynamic_listeners?: unknown[] }[] };
  const clusters = doc.configs.flatMap((c) => c.dynamic_active_clusters ?? []).map((c) => c.cluster);
  const listeners = doc.configs.flatMap((c) => c.dynamic_listeners ?? []);
  assert.ok(clusters.length > 0 && listeners.length > 0, 'the shop gives clusters and listeners (else this proves nothing)');
  assert.deepEqual(leftovers(doc), []);
  for (const c of clusters) if (c.connect_timeout !== undefined) assert.match(String(c.connect_timeout), /^\d+(\.\d{3}|\.\d{6}|\.\d{9})?s$/);
});
