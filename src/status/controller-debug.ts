import { DEFAULT_NAMESPACE, CONTROLLER_NAME, LABEL_NAME } from '../constants.js';
import type { Cluster, KubeObject } from '../cluster/types.js';
import { debugHeaders } from '../cluster/debug-token.js';
import { CONFIG_DUMP_PATH, parseSyncz, SYNCZ_PATH, type ConfigDump, type Syncz } from '../xds/syncz.js';
import { DEFAULTS } from '../manifests/values.js';
import { ExitCode, MeshError, usageError } from '../errors.js';
import { mapBounded, podProxyForbidden, proxyGet } from '../metrics/scrape.js';
import { isRunning } from './workloads.js';

export { typeState, type ConfigDump, type Syncz, type TypeState } from '../xds/syncz.js';

/** Where to find the control plane. */
export interface ControllerLocation {
  /** Namespace the mesh is installed in (default mesh-system). */
  meshNamespace: string;
  /** Port of the controller's introspection server (default: values controller.metricsPort, 15014). */
  port: number;
}

/** The default location: mesh-system, port 15014. */
export const DEFAULT_CONTROLLER: ControllerLocation = { meshNamespace: DEFAULT_NAMESPACE, port: DEFAULTS.controller.metricsPort };

/** One controller replica and what its /debug/syncz said (or why it said nothing). */
export interface ReplicaSync {
  pod: string;
  syncz?: Syncz;
  error?: string;
}

/**
 * The running controller replicas (pods labelled app.kubernetes.io/name=mesh-controller in the
 * mesh namespace). None is a MeshError saying how to install or where else to look.
 */
export async function controllerPods(cluster: Cluster, loc: ControllerLocation): Promise<KubeObject[]> {
  const pods = (await cluster.list('v1', 'Pod', { namespace: loc.meshNamespace, labelSelector: `${LABEL_NAME}=${CONTROLLER_NAME}` })).filter(isRunning);
  if (pods.length === 0) {
    throw new MeshError(`controller unreachable: no running ${CONTROLLER_NAME} pods in namespace ${loc.meshNamespace}`, {
      hint: `install the mesh with "mesh install", or pass --mesh-namespace if it lives elsewhere (kubectl get pods -A -l ${LABEL_NAME}=${CONTROLLER_NAME})`,
      exitCode: ExitCode.Failed,
    });
  }
  return pods.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

const tokens = new WeakMap<Cluster, Map<string, Promise<Record<string, string>>>>();
/** The /debug token headers of a mesh namespace, read once per cluster connection (every replica shares the Secret). */
function headersFor(cluster: Cluster, loc: ControllerLocation): Promise<Record<string, string>> {
  let byNs = tokens.get(cluster);
  if (!byNs) tokens.set(cluster, (byNs = new Map()));
  let h = byNs.get(loc.meshNamespace);
  if (!h) byNs.set(loc.meshNamespace, (h = debugHeaders(cluster, loc.meshNamespace)));
  return h;
}

/**
 * GET a JSON debug path from one replica; 403 throws the RBAC error, other failures come back as
 * text. A 200 answer is read with `parse` (default JSON.parse); what it throws is such a failure.
 */
export async function debugGet<T>(cluster: Cluster, loc: ControllerLocation, pod: string, path: string, parse: (text: string) => T = (t) => JSON.parse(t) as T): Promise<{ value?: T; status: number; error?: string }> {
  const res = await proxyGet(cluster, { namespace: loc.meshNamespace, pod, port: loc.port }, path, await headersFor(cluster, loc));
  if (res.status === 403) throw podProxyForbidden(loc.meshNamespace, pod, res.body);
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    return { status: res.status, error: `HTTP ${res.status}: ${res.body.trim().split('\n')[0]?.slice(0, 200) ?? ''}` };
  }
  if (res.status !== 200) return { status: res.status, error: `HTTP ${res.status}: ${(body as { error?: string; message?: string }).error ?? (body as { message?: string }).message ?? ''}` };
  try {
    return { status: 200, value: parse(res.body) };
  } catch (err) {
    return { status: 200, error: (err as Error).message };
  }
}

/** /debug/syncz of every replica, in parallel. All replicas failing is "controller unreachable". */
export async function syncAll(cluster: Cluster, loc: ControllerLocation): Promise<ReplicaSync[]> {
  const pods = await controllerPods(cluster, loc);
  const out = await mapBounded(pods, 8, async (p): Promise<ReplicaSync> => {
    const r = await debugGet(cluster, loc, p.metadata.name, SYNCZ_PATH, parseSyncz);
    return r.value ? { pod: p.metadata.name, syncz: r.value } : { pod: p.metadata.name, error: r.error };
  });
  if (out.every((r) => r.error)) {
    throw new MeshError(`controller unreachable: none of ${out.length} replicas answered ${SYNCZ_PATH} (${out[0]!.pod}: ${out[0]!.error})`, {
      hint: `check the controller is ready (kubectl -n ${loc.meshNamespace} get pods -l ${LABEL_NAME}=${CONTROLLER_NAME}) and serves port ${loc.port}; pass --controller-port if it was changed`,
      exitCode: ExitCode.Failed,
    });
  }
  return out;
}

/** One proxy's config from one replica (/debug/config_dump?proxy=ID). */
export function configDumpOf(cluster: Cluster, loc: ControllerLocation, pod: string, proxyId: string): Promise<{ value?: ConfigDump; status: number; error?: string }> {
  return debugGet<ConfigDump>(cluster, loc, pod, `${CONFIG_DUMP_PATH}?proxy=${encodeURIComponent(proxyId)}`);
}

/** xDS type URLs by their short name, in the order istioctl shows them. (src/xds/protos.ts has the same URLs but loads protobufjs.) */
export const XDS_TYPES = {
  CDS: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  LDS: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  EDS: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  RDS: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  SDS: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
} as const;
export type XdsShort = keyof typeof XDS_TYPES;

/** Validate --mesh-namespace / --controller-port into a location (usage error for a bad port). */
export function controllerLocation(raw: { meshNamespace?: string; controllerPort?: string }, defaults: ControllerLocation): ControllerLocation {
  const port = raw.controllerPort === undefined ? defaults.port : Number(raw.controllerPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw usageError(`--controller-port ${raw.controllerPort} is not a port`, 'use a number from 1 to 65535');
  return { meshNamespace: raw.meshNamespace || defaults.meshNamespace, port };
}
