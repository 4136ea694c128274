// Property (fuzz) tests for every parser of user input: whatever comes in, the answer is a result
// or a MeshError with exit code 2 (the CLI's "bad input"), a webhook answer, or a clean gRPC
// status: never a TypeError, a stack trace or an unhandled rejection. numRuns is tuned so the whole
// file runs in a few seconds; FUZZ_RUNS=N multiplies the effort when hunting.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import * as grpc from '@grpc/grpc-js';
import { MeshError } from '../../src/errors.ts';
import { readDocuments } from '../../src/cluster/files.ts';
import { parseValuesYaml } from '../../src/cluster/values-files.ts';
import { toYaml } from '../../src/cluster/yaml.ts';
import { parseSet, resolveValues } from '../../src/manifests/values.ts';
import { streamInjector, transformDoc } from '../../src/manifests/inject-stream.ts';
import { uninjectObject, webhookPatch } from '../../src/manifests/inject.ts';
import type { InjectReport } from '../../src/manifests/inject.ts';
import { parseDuration, parseGatewayDuration, parsePositiveDuration, durationValue, formatDuration } from '../../src/duration.ts';
import * as route from '../../src/route/parse.ts';
import { reviewAdmission, type WebhookContext } from '../../src/controller/webhook.ts';
import { ControlPlane } from '../../src/controller/controlplane.ts';
import { MemorySource } from '../../src/cluster/source.ts';
import { buildModel } from '../../src/model/build.ts';
import { TYPE } from '../../src/xds/protos.ts';
import type { KubeObject } from '../../src/cluster/types.ts';
import { AdsClient, DeltaAdsClient } from '../support/ads-client.ts';
import { workload } from '../inject/arbitraries.ts';

const SCALE = Number(process.env.FUZZ_RUNS ?? 1);
const runs = (n: number): { numRuns: number } => ({ numRuns: Math.max(1, Math.round(n * SCALE)) });

/** Run `fn`; anything thrown must be a MeshError with exit code 2 (bad input). */
function refusedOrFine<T>(what: string, fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    assert.ok(err instanceof MeshError, `${what}: threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
    assert.equal(err.exitCode, 2, `${what}: exit ${err.exitCode} for ${err.message}`);
    return undefined;
  }
}

async function refusedOrFineAsync<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    assert.ok(err instanceof MeshError, `${what}: threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
    assert.equal(err.exitCode, 2, `${what}: exit ${err.exitCode} for ${err.message}`);
    return undefined;
  }
}

// Unhandled rejections and uncaught exceptions anywhere in the file fail it.
const escaped: unknown[] = [];
const onEscape = (err: unknown): void => void escaped.push(err);
before(() => {
  process.on('unhandledRejection', onEscape);
  process.on('uncaughtException', onEscape);
});
after(() => {
  process.off('unhandledRejection', onEscape);
  process.off('uncaughtException', onEscape);
  assert.deepEqual(escaped.map((e) => String(e)), [], 'nothing escaped as an unhandled rejection or uncaught exception');
});

/** JSON-ish data with the shapes that break code that trusts its input: nulls, numbers for objects, prototype keys. */
const evilKey = fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'items', 'kind', 'spec', 'metadata', 'containers', 'name', '');
const key = fc.oneof(evilKey, fc.string({ maxLength: 8 }));
const junk: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, fc.constant(null), fc.boolean(), fc.integer(), fc.double(), fc.string({ maxLength: 12 }), tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.array(fc.tuple(key, tie('value')), { maxLength: 4 }).map((kv) => {
    const o: Record<string, unknown> = {};
    for (const [k, v] of kv) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
    return o;
  }),
})).value;

/** A workload with one random path replaced by junk: almost right is where parsers crash. */
const damaged: fc.Arbitrary<unknown> = fc.tuple(workload, fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), junk).map(([w, path, j]) => {
  const root = JSON.parse(JSON.stringify(w)) as Record<string, unknown>;
  let cur: unknown = root;
  for (let i = 0; i < path.length; i++) {
    if (typeof cur !== 'object' || cur === null) break;
    const keys = Object.keys(cur);
    if (!keys.length) break;
    const k = keys[path[i]! % keys.length]!;
    if (i === path.length - 1 || typeof (cur as Record<string, unknown>)[k] !== 'object') {
      (cur as Record<string, unknown>)[k] = j;
      break;
    }
    cur = (cur as Record<string, unknown>)[k];
  }
  return root;
});

const listOf = fc.array(fc.oneof(damaged, junk, workload), { maxLength: 3 }).map((items) => ({ apiVersion: 'v1', kind: 'List', items }));
const document = fc.oneof(damaged, listOf, junk, workload as fc.Arbitrary<unknown>);

/** Text as users and tools produce it: YAML or JSON of the above, cut short, with template placeholders or stray bytes. */
const manifestText = fc
  .tuple(fc.array(document, { minLength: 1, maxLength: 3 }), fc.constantFrom('yaml', 'json'), fc.constantFrom('none', 'truncate', 'insert', 'placeholder'), fc.nat(), fc.string({ maxLength: 6 }))
  .map(([docs, format, damage, at, extra]) => {
    let text = docs.map((d) => (format === 'json' ? JSON.stringify(d) : safeYaml(d))).join(format === 'json' ? '\n' : '---\n');
    const i = text.length ? at % text.length : 0;
    if (damage === 'truncate') text = text.slice(0, i);
    else if (damage === 'insert') text = text.slice(0, i) + extra + text.slice(i);
    else if (damage === 'placeholder') text = text.slice(0, i) + '{{ replicas }}' + text.slice(i);
    return text;
  });

function safeYaml(d: unknown): string {
  try {
    return toYaml(d);
  } catch {
    return JSON.stringify(d) ?? 'null';
  }
}

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mesh-fuzz-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const values = resolveValues();

test('fuzz: YAML/JSON documents through the loader, inject and uninject: a result or exit 2, nothing else', async () => {
  let n = 0;
  await fc.assert(
    fc.asyncProperty(manifestText, async (text) => {
      const file = join(dir, `in-${n++}.yaml`);
      writeFileSync(file, text);
      await refusedOrFineAsync(`loading ${JSON.stringify(text.slice(0, 200))}`, async () => {
        const inject = streamInjector(values, false);
        const reports: InjectReport[] = [];
        for await (const doc of readDocuments([file])) {
          if (!doc.object) continue;
          const out = transformDoc(doc, inject, reports) ?? doc.object;
          transformDoc({ ...doc, object: out }, uninjectObject, reports);
        }
      });
    }),
    runs(150),
  );
});

test('fuzz: values files and --set: values or exit 2, and Object.prototype untouched', () => {
  const path = fc.array(fc.oneof(evilKey, fc.constantFrom('controller', 'proxy', 'replicas', 'trustDomain', 'namespace', 'resources', 'requests', 'cpu', 'webhook', 'failurePolicy'), fc.string({ maxLength: 6 })), { minLength: 1, maxLength: 4 });
  const set = fc.tuple(path, fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('1', '-3', 'true', 'a b/c', 'x..y', 'UPPER_case', 'ünï'))).map(([p, v]) => `${p.join('.')}=${v}`);
  const setLike = fc.oneof(set, fc.string({ maxLength: 20 }));
  const file = fc.oneof(junk.map(safeYaml), fc.string({ maxLength: 40 }), junk.map((j) => JSON.stringify({ controller: j, proxy: j })));
  fc.assert(
    fc.property(fc.array(file, { maxLength: 2 }), fc.array(setLike, { maxLength: 3 }), (files, sets) => {
      refusedOrFine(`values ${JSON.stringify({ files, sets })}`, () => {
        const parsed = files.map((f, i) => ({ source: `v${i}.yaml`, values: parseValuesYaml(f, `v${i}.yaml`) }));
        resolveValues({ files: parsed, sets });
      });
      for (const s of sets) refusedOrFine(`--set ${s}`, () => parseSet(s));
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      assert.equal(Object.keys(Object.prototype).length, 0, 'Object.prototype gained a key');
    }),
    runs(300),
  );
});

const ANNOTATIONS = [
  'mesh.dev/inject', 'mesh.dev/status', 'mesh.dev/proxy-cpu', 'mesh.dev/proxy-memory', 'mesh.dev/proxy-cpu-limit', 'mesh.dev/proxy-memory-limit',
  'mesh.dev/exclude-inbound-ports', 'mesh.dev/exclude-outbound-ports', 'mesh.dev/exclude-outbound-ip-ranges', 'mesh.dev/include-outbound-ip-ranges',
  'mesh.dev/hold-application-until-proxy-starts', 'mesh.dev/rewrite-app-probes', 'mesh.dev/mtls', 'mesh.dev/reachable-namespaces',
  'mesh.dev/retry', 'mesh.dev/fault', 'mesh.dev/outlier-detection', 'mesh.dev/circuit-breaker', 'mesh.dev/canary', 'mesh.dev/rollout',
];
const annotationValue = fc.oneof(
  fc.string({ maxLength: 16 }),
  fc.constantFrom('enabled', 'disabled', 'true', 'false', '100m', '1Gi', '-1', '0', '65536', '8080,9090', '10.0.0.0/8', '10.0.0.0/33', '::1/128', '{"version":"0.0.1"}', '{}', 'null', '[]', '5xx', 'attempts=3,perTry=1s', '50%', '1e400', 'NaN'),
);
const annotations = fc.dictionary(fc.constantFrom(...ANNOTATIONS), annotationValue, { maxKeys: 4 }).map((d) => JSON.parse(JSON.stringify(d)) as Record<string, string>);

test('fuzz: mesh.dev/* annotations on pods (inject, uninject, webhook) and on services (the model): exit 2 or a warning', () => {
  const pods = fc.tuple(workload.filter((w) => w.kind === 'Pod'), annotations);
  fc.assert(
    fc.property(pods, annotations, fc.boolean(), ([pod, ann], svcAnn, native) => {
      const p = { ...pod, metadata: { ...pod.metadata, annotations: ann } } as KubeObject;
      refusedOrFine(`inject with ${JSON.stringify(ann)}`, () => webhookPatch(p, values, { nativeSidecar: native }));
      refusedOrFine(`uninject with ${JSON.stringify(ann)}`, () => uninjectObject(p));
      const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop', annotations: svcAnn }, spec: { clusterIP: '10.96.0.1', ports: [{ name: 'http', port: 80 }] } } as KubeObject;
      const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', annotations: svcAnn } } as KubeObject;
      // The model never refuses input: a bad annotation is a warning (mesh check shows it), the rest of the mesh keeps working.
      buildModel([svc, ns, p]);
    }),
    runs(300),
  );
});

test('fuzz: durations and route flags: a value or exit 2; a parsed duration prints back to itself', () => {
  const durationish = fc.oneof(fc.string({ maxLength: 12 }), fc.stringMatching(/^[0-9.]{0,6}(ms|h|m|s|us|){0,3}$/), fc.constantFrom('1h', '1m30s', '1.5s', '.5s', '5.s', '999999999999999999999h', ' 1s', '1s ', ''));
  fc.assert(
    fc.property(durationish, fc.string({ maxLength: 12 }), fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }), (d, s, list) => {
      for (const v of [d, s]) {
        const dur = refusedOrFine(`--timeout ${v}`, () => parseDuration(v, '--timeout'));
        if (dur !== undefined) {
          assert.ok(Number.isSafeInteger(dur) && dur >= 0, `--timeout ${v} gave ${dur}`);
          assert.equal(parseDuration(formatDuration(dur)), dur, `${v} -> ${formatDuration(dur)}`);
        }
        refusedOrFine(`--interval ${v}`, () => parsePositiveDuration(v, '--interval'));
        refusedOrFine(`timeouts.request ${v}`, () => parseGatewayDuration(v, 'timeouts.request'));
        const dv = durationValue(v, 'perTryTimeout');
        assert.ok(typeof dv === 'number' || (dv instanceof MeshError && dv.exitCode === 2), `durationValue(${JSON.stringify(v)})`);
        refusedOrFine(`--weight ${v}`, () => route.parseWeight('--weight', v));
        refusedOrFine(`--max-error-rate ${v}`, () => route.parsePercentFlag('--max-error-rate', v));
        refusedOrFine(`--steps ${v}`, () => route.parseSteps(v));
        const h = refusedOrFine(`--match-header ${v}`, () => route.parseHeaderMatch(v));
        if (h) assert.ok(!/[\r\n\0]/.test(h.value), `--match-header let a control character through: ${JSON.stringify(v)}`);
        refusedOrFine(`--match-path ${v}`, () => route.parsePathMatch(v));
        refusedOrFine(`--retry-on ${v}`, () => route.parseRetryOn(v));
        refusedOrFine(`--fault-abort ${v}`, () => route.parseHttpStatus('--fault-abort', v));
        refusedOrFine(`service ${v}`, () => route.parseServiceName('service', v));
      }
      refusedOrFine(`route set ${list.join(' ')}`, () => route.parseBackendWeights(list));
      refusedOrFine(`--match-header ${list.join(' ')}`, () => route.parseHeaderMatches(list));
    }),
    runs(400),
  );
});

test('fuzz: AdmissionReview bodies: the webhook always answers 200 with the request uid or 400, never a crash text', async () => {
  const logs: string[] = [];
  const ctx: WebhookContext = { values: async () => values, nativeSidecar: () => false, namespaceLabels: async () => undefined, log: (l) => logs.push(l) };
  const podish = fc.oneof(damaged, workload.filter((w) => w.kind === 'Pod'), junk);
  const review = fc.record(
    {
      apiVersion: fc.oneof(fc.constant('admission.k8s.io/v1'), junk),
      kind: fc.oneof(fc.constant('AdmissionReview'), junk),
      request: fc.oneof(
        junk,
        fc.record(
          {
            uid: fc.oneof(fc.uuid(), junk),
            kind: fc.oneof(fc.constant({ group: '', version: 'v1', kind: 'Pod' }), junk),
            operation: fc.oneof(fc.constantFrom('CREATE', 'UPDATE'), junk),
            namespace: fc.oneof(fc.constant('shop'), junk),
            subResource: fc.oneof(fc.constant(undefined), junk),
            object: podish,
          },
          { requiredKeys: [] },
        ),
      ),
    },
    { requiredKeys: [] },
  );
  await fc.assert(
    fc.asyncProperty(fc.oneof(review, junk), async (body) => {
      logs.length = 0;
      const a = await reviewAdmission(body, ctx);
      assert.ok(a.status === 200 || a.status === 400, `status ${a.status}`);
      const text = JSON.stringify(a.body) + logs.join('\n');
      assert.doesNotMatch(text, /Cannot read propert|is not a function|is not iterable|undefined \(reading|Maximum call stack|at .*\.ts:\d+/, `a crash leaked into the answer: ${text.slice(0, 300)}`);
      if (a.status === 200) {
        const req = (body as { request: { uid: string } }).request;
        assert.equal((a.body as { response: { uid: string } }).response.uid, req.uid);
      }
    }),
    runs(300),
  );
});

test('fuzz: xDS requests (SotW and delta): the server answers or ends the stream with a status, and keeps serving', async () => {
  const svc: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a', namespace: 'shop' }, spec: { clusterIP: '10.96.0.1', ports: [{ name: 'grpc', port: 8080 }] } };
  const cp = new ControlPlane({ source: new MemorySource([svc]), debounceMs: 5 });
  const port = await cp.start({ host: '127.0.0.1', port: 0 });
  const typeUrl = fc.oneof(fc.constantFrom(...Object.values(TYPE), ''), fc.string({ maxLength: 20 }));
  const names = fc.array(fc.oneof(fc.constantFrom('a.shop.svc.cluster.local:8080', '*', ''), fc.string({ maxLength: 10 })), { maxLength: 3 });
  const nonce = fc.oneof(fc.constant(''), fc.string({ maxLength: 6 }), fc.constantFrom('1', '2', '0'));
  const detail = fc.option(fc.record({ code: fc.integer({ min: -5, max: 20 }), message: fc.string({ maxLength: 20 }) }), { nil: undefined });
  const sotw = fc.record({ type_url: typeUrl, resource_names: names, version_info: fc.string({ maxLength: 6 }), response_nonce: nonce, error_detail: detail }, { requiredKeys: [] });
  const delta = fc.record({ type_url: typeUrl, resource_names_subscribe: names, resource_names_unsubscribe: names, response_nonce: nonce, error_detail: detail, initial_resource_versions: fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 4 }), { maxKeys: 2 }) }, { requiredKeys: [] });
  const node = fc.record({ id: fc.oneof(fc.constant('sidecar~10.0.0.1~p.shop~shop.svc.cluster.local'), fc.string({ maxLength: 12 })), meta: fc.dictionary(fc.constantFrom('NAMESPACE', 'POD_NAME', 'PROXY_KIND', 'TRUST_DOMAIN'), fc.string({ maxLength: 8 }), { maxKeys: 3 }) });
  try {
    await fc.assert(
      fc.asyncProperty(node, fc.boolean(), fc.array(fc.oneof(sotw, delta), { minLength: 1, maxLength: 4 }), async (n, isDelta, reqs) => {
        const c = isDelta ? new DeltaAdsClient(cp.ads.serviceDefinition(), port, n.id, n.meta) : new AdsClient(cp.ads.serviceDefinition(), port, n.id, n.meta);
        const ended = new Promise<grpc.StatusObject | undefined>((resolve) => {
          c.call.on('status', (s: grpc.StatusObject) => resolve(s));
          c.call.on('error', () => undefined);
        });
        for (const r of reqs) c.send(r as never);
        // Whatever came: a response, nothing, or a status. The stream's end is a gRPC status, never a crash text.
        await c.nothing(20);
        c.call.cancel();
        const st = await ended;
        if (st && st.code !== grpc.status.CANCELLED) assert.doesNotMatch(st.details, /Cannot read propert|is not a function|undefined \(reading/, `status ${st.code}: ${st.details}`);
      }),
      runs(60),
    );
    // Still serving a well-formed client afterwards.
    const ok = new AdsClient(cp.ads.serviceDefinition(), port, 'after-fuzz', { NAMESPACE: 'shop' });
    ok.send({ type_url: TYPE.listener, resource_names: ['a.shop.svc.cluster.local:8080'] });
    const r = await ok.next(5000);
    assert.equal(r.resources.length, 1);
    ok.call.cancel();
  } finally {
    await cp.stop();
  }
});
