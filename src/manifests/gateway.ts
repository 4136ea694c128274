import type { KubeObject } from '../cluster/types.js';
import {
  BOOTSTRAP_PATH,
  INIT_CONTAINER,
  LABEL_MANAGED_BY,
  LABEL_NAME,
  LABEL_PART_OF,
  LABEL_VERSION,
  PART_OF,
  PROXY_CONFIG_MOUNT_PATH,
  PROXY_CONFIG_VOLUME,
  PROXY_CONTAINER,
  TOKEN_MOUNT_PATH,
  TOKEN_VOLUME,
  TRUST_BUNDLE_MOUNT_PATH,
  TRUST_BUNDLE_VOLUME,
} from '../constants.js';
import type { MeshGateway } from '../model/gateway.js';
import { gatewayBindPort } from '../xds/gateway.js';
import { bootstrapArgs, bootstrapSettings, POD_ENV } from './bootstrap.js';
import { volumes } from './inject/containers.js';
import type { Values } from './values.js';

/**
 * The Envoy Deployment, Service and ServiceAccount mesh provisions for a Gateway of a mesh
 * GatewayClass, as pure data: owned by the Gateway (deleted with it), named `NAME-mesh`, carrying
 * spec.infrastructure labels and annotations. The proxy's bootstrap is written at pod start by
 * `mesh proxy-init --gateway-name NAME` (src/manifests/bootstrap.ts), so the node says
 * PROXY_KIND=gateway, NAMESPACE, GATEWAY_NAME and POD_NAME, and its token is the Gateway's own
 * ServiceAccount's: the identity its mTLS to meshed backends and its listener Secrets are bound to.
 */

/** `managed-by` of provisioned objects: not `mesh`, so `mesh upgrade` never prunes a Gateway's proxies. */
export const GATEWAY_MANAGED_BY = 'mesh-gateway-controller';

/** The standard label naming the Gateway a provisioned object serves. */
export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';

/** What a GatewayClass's parameters ConfigMap may set (docs/gateway.md). */
export interface GatewayParameters {
  /** Deployment replicas (default 1). */
  replicas: number;
  /** Service type (default LoadBalancer). */
  serviceType: 'LoadBalancer' | 'ClusterIP' | 'NodePort';
}

/** Default parameters when the class names none. */
export const GATEWAY_DEFAULTS: GatewayParameters = { replicas: 1, serviceType: 'LoadBalancer' };

const SERVICE_TYPES = ['LoadBalancer', 'ClusterIP', 'NodePort'] as const;

/** Parameters from a ConfigMap's data, or the first problem (named by key) when a value is unusable. */
export function gatewayParameters(data: Readonly<Record<string, string>> | undefined): GatewayParameters | { problem: string } {
  const out = { ...GATEWAY_DEFAULTS };
  for (const [k, v] of Object.entries(data ?? {})) {
    if (k === 'replicas') {
      if (!/^\d+$/.test(v) || Number(v) > 100) return { problem: `replicas "${v}" is not a number 0-100` };
      out.replicas = Number(v);
    } else if (k === 'serviceType') {
      if (!(SERVICE_TYPES as readonly string[]).includes(v)) return { problem: `serviceType "${v}" is not one of ${SERVICE_TYPES.join(', ')}` };
      out.serviceType = v as GatewayParameters['serviceType'];
    } else return { problem: `unknown key ${k} (replicas, serviceType)` };
  }
  return out;
}

/** The owner of provisioned objects: the Gateway object itself. */
export interface GatewayOwner {
  apiVersion: string;
  uid: string;
}

/** The ServiceAccount, Deployment and Service of one Gateway. Pure and deterministic. */
export function gatewayObjects(gw: MeshGateway, owner: GatewayOwner, params: GatewayParameters, values: Values, version: string): KubeObject[] {
  const name = gw.workload;
  const selector = { [LABEL_NAME]: name, [GATEWAY_NAME_LABEL]: gw.name };
  const labels = { ...gw.infrastructure.labels, ...selector, [LABEL_PART_OF]: PART_OF, [LABEL_MANAGED_BY]: GATEWAY_MANAGED_BY, [LABEL_VERSION]: version };
  const annotations = { ...gw.infrastructure.annotations };
  const metadata = (): KubeObject['metadata'] => ({
    name,
    namespace: gw.namespace,
    labels: { ...labels },
    ...(Object.keys(annotations).length ? { annotations: { ...annotations } } : {}),
    ownerReferences: [{ apiVersion: owner.apiVersion, kind: 'Gateway', name: gw.name, uid: owner.uid, controller: true }],
  });
  const ports = [...new Map(gw.listeners.map((l) => [l.port, l])).values()].sort((a, b) => a.port - b.port);
  const p = values.proxy;
  const env = Object.entries(POD_ENV).map(([n, fieldPath]) => ({ name: n, valueFrom: { fieldRef: { fieldPath } } }));
  const nonRoot = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, privileged: false, readOnlyRootFilesystem: true, runAsNonRoot: true, runAsUser: p.uid, runAsGroup: p.uid };
  const ready = { httpGet: { path: '/healthz/ready', port: p.readinessPort } };
  const serviceAccount: KubeObject = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: metadata(), automountServiceAccountToken: false };
  const deployment: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(),
    spec: {
      replicas: params.replicas,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: { ...labels }, ...(Object.keys(annotations).length ? { annotations: { ...annotations } } : {}) },
        spec: {
          serviceAccountName: name,
          automountServiceAccountToken: false,
          initContainers: [
            {
              name: INIT_CONTAINER,
              image: values.proxyInit.image,
              command: ['mesh'],
              // Only the bootstrap: a gateway captures nothing, so no iptables and no root.
              args: ['proxy-init', ...bootstrapArgs({ ...bootstrapSettings(values, version, []), gateway: gw.name }, BOOTSTRAP_PATH)],
              env,
              resources: values.proxyInit.resources,
              securityContext: nonRoot,
              volumeMounts: [{ name: PROXY_CONFIG_VOLUME, mountPath: PROXY_CONFIG_MOUNT_PATH }],
            },
          ],
          containers: [
            {
              name: PROXY_CONTAINER,
              image: p.image,
              command: ['envoy'],
              args: ['-c', BOOTSTRAP_PATH, '--log-level', p.logLevel, '--disable-hot-restart', '--drain-time-s', '5'],
              env,
              ports: [
                ...ports.map((l) => ({ name: `${l.protocol.toLowerCase()}-${l.port}`.slice(0, 15), containerPort: gatewayBindPort(l.port), protocol: 'TCP' })),
                { name: 'mesh-metrics', containerPort: p.statsPort, protocol: 'TCP' },
                { name: 'mesh-health', containerPort: p.readinessPort, protocol: 'TCP' },
              ],
              readinessProbe: { ...ready, initialDelaySeconds: 1, periodSeconds: 2, timeoutSeconds: 3, failureThreshold: 30 },
              resources: p.resources,
              securityContext: nonRoot,
              volumeMounts: [
                { name: TOKEN_VOLUME, mountPath: TOKEN_MOUNT_PATH, readOnly: true },
                { name: TRUST_BUNDLE_VOLUME, mountPath: TRUST_BUNDLE_MOUNT_PATH, readOnly: true },
                { name: PROXY_CONFIG_VOLUME, mountPath: PROXY_CONFIG_MOUNT_PATH, readOnly: true },
              ],
            },
          ],
          volumes: volumes(),
        },
      },
    },
  };
  const service: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(),
    spec: {
      type: params.serviceType,
      selector,
      ports: ports.map((l) => ({ name: `${l.protocol.toLowerCase()}-${l.port}`, port: l.port, targetPort: gatewayBindPort(l.port), protocol: 'TCP' })),
    },
  };
  return [serviceAccount, deployment, service];
}
