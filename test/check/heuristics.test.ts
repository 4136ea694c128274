import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { analyze, type SourcedObject } from '../../src/analyzers/index.ts';

const objs = (yaml: string): SourcedObject[] => yaml.split(/^---$/m).map((d) => ({ object: parse(d) }));
const codes = (yaml: string, code: string): string[] => analyze(objs(yaml)).findings.filter((f) => f.code === code).map((f) => `${f.resource.kind}/${f.resource.namespace}/${f.resource.name}`);

const strictShop = `
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {mesh.dev/inject: enabled}, annotations: {mesh.dev/mtls: STRICT}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template: {metadata: {labels: {app: api}}, spec: {serviceAccountName: api, containers: [{name: api, image: a}]}}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec: {selector: {app: api}, ports: [{name: http, port: 80}]}
`;
const caller = (ns: string, extra = '', env = 'http://api.shop:80'): string => `
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: job, namespace: ${ns}}
spec:
  selector: {matchLabels: {app: job}}
  template:
    metadata: {labels: {app: job}${extra}}
    spec: {serviceAccountName: job, containers: [{name: job, image: j, args: ["--target=${env}"]}]}
`;
const ns = (name: string, inject: boolean): string => `
---
apiVersion: v1
kind: Namespace
metadata: {name: ${name}${inject ? ', labels: {mesh.dev/inject: enabled}' : ''}}
`;

test('MSH0009: reported for a known-uninjected caller, not for injected or unknown ones', () => {
  assert.deepEqual(codes(strictShop + ns('batch', false) + caller('batch'), 'MSH0009'), ['Deployment/batch/job']);
  assert.deepEqual(codes(strictShop + ns('batch', true) + caller('batch'), 'MSH0009'), [], 'injected caller');
  assert.deepEqual(codes(strictShop + caller('batch'), 'MSH0009'), [], 'caller namespace not in the input: cannot tell');
  assert.deepEqual(codes(strictShop + ns('batch', true) + caller('batch', ', annotations: {mesh.dev/inject: disabled}'), 'MSH0009'), ['Deployment/batch/job'], 'opted out');
  assert.deepEqual(codes(strictShop + ns('batch', false) + caller('batch', '', 'http://elsewhere:80'), 'MSH0009'), [], 'does not name the service');
  assert.deepEqual(codes(strictShop.replace('STRICT', 'PERMISSIVE') + ns('batch', false) + caller('batch'), 'MSH0009'), [], 'PERMISSIVE accepts plain text');
});

test('MSH0009: an ALLOW policy naming an uninjected caller counts as a call', () => {
  const policy = `
---
apiVersion: mesh.dev/v1alpha1
kind: AuthorizationPolicy
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  rules: [{from: [{source: {principals: ["cluster.local/ns/batch/sa/job"]}}]}]
`;
  const f = analyze(objs(strictShop + ns('batch', false) + caller('batch', '', 'none') + policy)).findings.filter((x) => x.code === 'MSH0009');
  assert.equal(f.length, 1);
  assert.match(f[0]!.message, /allowed as a caller by AuthorizationPolicy shop\/api/);
});

const routes = (a: string, b: string): string => `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: web}, ports: [{name: http, port: 80}, {name: http-admin, port: 81}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: a, namespace: shop}
spec: {parentRefs: [${a}], rules: [{backendRefs: [{name: web, port: 80}]}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: b, namespace: shop}
spec: {parentRefs: [${b}], rules: [{backendRefs: [{name: web, port: 80}]}]}
`;

test('MSH0006: rules without matches conflict on the same parent port; other ports and Gateways do not', () => {
  const svc = (port?: number): string => `{group: "", kind: Service, name: web${port ? `, port: ${port}` : ''}}`;
  assert.deepEqual(codes(routes(svc(80), svc(80)), 'MSH0006'), ['HTTPRoute/shop/b'], 'same port, implicit PathPrefix /: the later name loses');
  assert.deepEqual(codes(routes(svc(80), svc(81)), 'MSH0006'), []);
  assert.deepEqual(codes(routes('{name: gw}', '{name: gw}'), 'MSH0006'), [], 'Gateway parents are not ours');
  assert.deepEqual(codes(routes('{name: gw}', '{name: gw}'), 'MSH0001'), [], 'and are not reported missing');
});

test('MSH0008: principals in namespaces outside the input are not judged; wildcards never', () => {
  const p = (principal: string): string => `
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: mesh.dev/v1alpha1
kind: AuthorizationPolicy
metadata: {name: p, namespace: shop}
spec: {rules: [{from: [{source: {principals: ["${principal}"]}}]}]}
`;
  assert.deepEqual(codes(p('cluster.local/ns/shop/sa/ghost'), 'MSH0008'), ['AuthorizationPolicy/shop/p']);
  assert.deepEqual(codes(p('spiffe://cluster.local/ns/shop/sa/ghost'), 'MSH0008'), ['AuthorizationPolicy/shop/p']);
  assert.deepEqual(codes(p('cluster.local/ns/elsewhere/sa/ghost'), 'MSH0008'), []);
  assert.deepEqual(codes(p('cluster.local/ns/shop/sa/*'), 'MSH0008'), []);
  assert.deepEqual(codes(p('cluster.local/ns/shop/sa/default'), 'MSH0008'), []);
  // Live (complete) input: absence is absence.
  const live = analyze(objs(p('cluster.local/ns/elsewhere/sa/ghost')), { complete: true }).findings.filter((f) => f.code === 'MSH0008');
  assert.equal(live.length, 1);
});

test('MSH0011 ignores Jobs and ReplicaSets owned by a Deployment; MSH0010 ignores UDP and appProtocol ports', () => {
  const y = `
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web-1, namespace: a, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: u, controller: true}]}
spec: {selector: {matchLabels: {app: x}}, template: {metadata: {labels: {app: x}}, spec: {containers: [{name: c, image: i}]}}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: a}
spec: {schedule: "0 0 * * *", jobTemplate: {spec: {template: {metadata: {labels: {app: n}}, spec: {containers: [{name: c, image: i}]}}}}}
---
apiVersion: v1
kind: Service
metadata: {name: dns, namespace: a}
spec: {ports: [{name: dns, port: 53, protocol: UDP}, {name: web, port: 80, appProtocol: kubernetes.io/h2c}]}
`;
  assert.deepEqual(codes(y, 'MSH0011'), []);
  assert.deepEqual(codes(y, 'MSH0010'), []);
});

test('parseLookups reads busybox and bind nslookup output, ignoring the DNS server lines', async () => {
  const { parseLookups } = await import('../../src/checks/catalog/index.ts');
  const log = [
    '== web.shop.svc.cluster.local',
    'Server:    10.96.0.10',
    'Address:   10.96.0.10:53',
    '',
    'Name:   web.shop.svc.cluster.local',
    'Address: 10.96.12.7',
    '',
    '== db.shop.svc.cluster.local',
    'Server:\t\t10.96.0.10',
    'Address:\t10.96.0.10#53',
    '',
    '** server can\'t find db.shop.svc.cluster.local: NXDOMAIN',
    '== v6.shop.svc.cluster.local',
    'Server:  10.96.0.10',
    'Address 1: 10.96.0.10 kube-dns.kube-system.svc.cluster.local',
    'Name:      v6.shop.svc.cluster.local',
    'Address 1: fd00::12',
  ].join('\n');
  const got = parseLookups(log);
  assert.deepEqual(got.get('web.shop.svc.cluster.local'), ['10.96.12.7']);
  assert.deepEqual(got.get('db.shop.svc.cluster.local'), []);
  assert.deepEqual(got.get('v6.shop.svc.cluster.local'), ['fd00::12']);
});
