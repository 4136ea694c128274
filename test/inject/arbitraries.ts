// fast-check generators of workloads as users write them (what `mesh inject` must handle).
import fc from 'fast-check';
import type { KubeObject } from '../../src/cluster/types.ts';

const KINDS = ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Job', 'CronJob'] as const;
const API: Record<string, string> = { Pod: 'v1', ReplicationController: 'v1', Job: 'batch/v1', CronJob: 'batch/v1' };

const dnsName = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/);
const labelValue = fc.stringMatching(/^[a-zA-Z0-9]([a-zA-Z0-9_.-]{0,10}[a-zA-Z0-9])?$/);

const httpProbe = fc.record(
  {
    httpGet: fc.record(
      {
        path: fc.constantFrom('/ready', '/healthz', '/live?full=1', '/'),
        port: fc.constantFrom(8080, 'http', 9090, 'metrics'),
        scheme: fc.constantFrom('HTTP', 'HTTPS'),
        httpHeaders: fc.constant([{ name: 'X-Probe', value: 'kubelet' }]),
      },
      { requiredKeys: ['port'] },
    ),
    periodSeconds: fc.integer({ min: 1, max: 30 }),
    failureThreshold: fc.integer({ min: 1, max: 10 }),
  },
  { requiredKeys: ['httpGet'] },
);
const otherProbe = fc.oneof(fc.constant({ tcpSocket: { port: 8080 } }), fc.constant({ exec: { command: ['true'] } }));
const probe = fc.oneof(httpProbe, otherProbe);

function container(name: string) {
  return fc.record(
    {
      name: fc.constant(name),
      image: fc.constantFrom('nginx:1.27', 'ghcr.io/example/app:1.0', 'redis:7.2'),
      ports: fc.constant([{ name: 'http', containerPort: 8080 }]),
      readinessProbe: probe,
      livenessProbe: probe,
      startupProbe: probe,
      env: fc.constant([{ name: 'MODE', value: 'prod' }]),
      resources: fc.constant({ requests: { cpu: '100m', memory: '64Mi' } }),
    },
    { requiredKeys: ['name', 'image'] },
  );
}

const containers = (names: string[]) => fc.subarray(names, { minLength: 1 }).chain((ns) => fc.tuple(...ns.map(container)));
const initContainers = fc.subarray(['setup', 'migrate'], { minLength: 1 }).chain((ns) => fc.tuple(...ns.map((n) => container(n))));

const annotations = fc.record(
  {
    'example.com/owner': labelValue,
    'prometheus.io/scrape': fc.constant('true'),
    'mesh.dev/inject': fc.constant('enabled'),
    'mesh.dev/proxy-cpu': fc.constantFrom('10m', '250m', '1'),
    'mesh.dev/proxy-memory-limit': fc.constantFrom('128Mi', '1Gi'),
    'mesh.dev/exclude-outbound-ports': fc.constantFrom('5432', '3306, 6379'),
    'mesh.dev/exclude-inbound-ports': fc.constantFrom('9100'),
    'mesh.dev/exclude-outbound-ip-ranges': fc.constantFrom('169.254.169.254/32', '10.0.0.0/8,fd00::/8'),
    'mesh.dev/include-outbound-ip-ranges': fc.constantFrom('*', '10.96.0.0/12'),
    'mesh.dev/hold-application-until-proxy-starts': fc.constantFrom('true', 'false'),
    'mesh.dev/rewrite-app-probes': fc.constantFrom('true', 'false'),
  },
  { requiredKeys: [] },
);

const templateMeta = fc.record(
  {
    labels: fc.dictionary(fc.constantFrom('app', 'tier', 'version'), labelValue, { maxKeys: 3 }),
    annotations,
  },
  { requiredKeys: [] },
);

const podSpec = fc.record(
  {
    containers: containers(['app', 'web', 'worker']),
    initContainers,
    serviceAccountName: dnsName,
    volumes: fc.constant([{ name: 'data', emptyDir: {} }]),
    restartPolicy: fc.constantFrom('Always', 'OnFailure', 'Never'),
    hostNetwork: fc.constantFrom(false, true, false, false),
  },
  { requiredKeys: ['containers'] },
);

const template = fc.record({ metadata: templateMeta, spec: podSpec }, { requiredKeys: ['spec'] });

/** A workload of one of the eight injected kinds, with an optional pod template metadata. */
export const workload: fc.Arbitrary<KubeObject> = fc
  .record({ kind: fc.constantFrom(...KINDS), name: dnsName, namespace: fc.option(dnsName, { nil: undefined }), template })
  .map(({ kind, name, namespace, template: t }) => {
    const metadata = { name, ...(namespace ? { namespace } : {}) };
    const apiVersion = API[kind] ?? 'apps/v1';
    const spec = structuredClone(t.spec) as Record<string, unknown>;
    if (kind !== 'Pod' && kind !== 'Job' && kind !== 'CronJob') delete spec.restartPolicy;
    if ((kind === 'Job' || kind === 'CronJob') && (spec.restartPolicy === undefined || spec.restartPolicy === 'Always')) spec.restartPolicy = 'Never';
    const tpl = { ...t, spec };
    if (kind === 'Pod') return { apiVersion, kind, metadata: { ...metadata, ...(t.metadata ?? {}) }, spec };
    const selector = { matchLabels: { app: name } };
    if (kind === 'Job') return { apiVersion, kind, metadata, spec: { template: tpl } };
    if (kind === 'CronJob') return { apiVersion, kind, metadata, spec: { schedule: '0 * * * *', jobTemplate: { spec: { template: tpl } } } };
    if (kind === 'ReplicationController') return { apiVersion, kind, metadata, spec: { selector: { app: name }, template: tpl } };
    return { apiVersion, kind, metadata, spec: { selector, ...(kind === 'StatefulSet' ? { serviceName: name } : {}), template: tpl } };
  })
  // Plain JSON data, as a YAML or JSON parser produces (fast-check's dictionaries have no prototype).
  .map((o) => JSON.parse(JSON.stringify(o))) as fc.Arbitrary<KubeObject>;
