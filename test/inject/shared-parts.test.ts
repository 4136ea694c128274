// `mesh inject` builds each distinct sidecar container and volume once per stream and shares it
// (deep-frozen) between pods, and toYaml writes each one's text once. The objects and the bytes
// must be exactly those of building every pod's parts afresh and writing them with js-yaml.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { toYaml, toYamlByJsYaml } from '../../src/cluster/yaml.ts';
import { clone, injectObject, uninjectObject } from '../../src/manifests/inject.ts';
import { streamInjector } from '../../src/manifests/inject-stream.ts';
import { resolveValues } from '../../src/manifests/values.ts';
import { workload } from './arbitraries.ts';

const VALUES = [resolveValues(), resolveValues({ profile: 'minimal', sets: ['proxy.holdApplicationUntilProxyStarts=false', 'proxy.uid=2000', 'proxy.drainDuration=7s'] })];

test('property: a stream injected with shared parts gives the objects and bytes of injecting each pod afresh', () => {
  fc.assert(
    fc.property(fc.array(workload, { minLength: 1, maxLength: 8 }), fc.constantFrom(...VALUES), fc.boolean(), (xs, values, native) => {
      const inject = streamInjector(values, native);
      for (const x of xs) {
        const before = clone(x);
        const shared = inject(x);
        const fresh = injectObject(x, values, { nativeSidecar: native });
        assert.deepStrictEqual(shared.object, fresh.object);
        assert.deepStrictEqual(shared.report, fresh.report);
        assert.equal(toYaml(shared.object), toYamlByJsYaml(fresh.object));
        // The second time from the remembered texts.
        assert.equal(toYaml(shared.object), toYamlByJsYaml(fresh.object));
        assert.deepStrictEqual(x, before, 'the input is not mutated');
        // Shared (frozen) parts can be taken out again.
        assert.deepStrictEqual(uninjectObject(shared.object).object, uninjectObject(fresh.object).object);
      }
    }),
    { numRuns: 100 },
  );
});

test('pods with the same settings share one proxy container, init container and volumes, frozen', () => {
  const pod = (name: string) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { containers: [{ name: 'app', image: 'nginx', readinessProbe: { httpGet: { path: '/ready', port: 8080 } } }] },
  });
  const inject = streamInjector(VALUES[0]!, true);
  const a = inject(pod('a')).object.spec as { initContainers: object[]; volumes: object[] };
  const b = inject(pod('b')).object.spec as { initContainers: object[]; volumes: object[] };
  assert.equal(a.initContainers.length, 2);
  a.initContainers.forEach((c, i) => assert.equal(c, b.initContainers[i]));
  a.volumes.forEach((v, i) => assert.equal(v, b.volumes[i]));
  assert.ok(Object.isFrozen(a.initContainers[1]));
  assert.throws(() => {
    (a.initContainers[1] as { name: string }).name = 'x';
  }, TypeError);
  // Other settings (an annotation), other parts.
  const other = pod('c');
  (other.metadata as Record<string, unknown>).annotations = { 'mesh.dev/proxy-cpu': '250m' };
  const c = inject(other).object.spec as { initContainers: object[] };
  assert.notEqual(c.initContainers[1], a.initContainers[1]);
});
