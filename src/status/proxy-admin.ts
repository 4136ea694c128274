import { createServer, type Socket } from 'node:net';
import { request } from 'node:http';
import type { Cluster, KubeObject } from '../cluster/types.js';
import { INIT_CONTAINER } from '../constants.js';
import { ExitCode, MeshError } from '../errors.js';
import { envoyBootstrap, validateBootstrapFlags, type BootstrapFlags, type BootstrapOptions } from '../manifests/bootstrap.js';
import { DEFAULTS } from '../manifests/values.js';

/**
 * A proxy's Envoy admin API, reached the way `kubectl port-forward` reaches it: the admin
 * listener is bound to 127.0.0.1 inside the pod (src/manifests/bootstrap.ts), so the API server's
 * pods/proxy (which dials the pod IP) cannot reach it; a port-forward tunnel can.
 */

type Container = { name?: string; args?: unknown[] };

/** The bootstrap flags `mesh inject` wrote on the pod's mesh-init container, or undefined for a pod without one. */
export function bootstrapFlagsOf(pod: KubeObject): BootstrapFlags | undefined {
  const spec = (pod.spec ?? {}) as { initContainers?: Container[]; containers?: Container[] };
  const init = [...(spec.initContainers ?? []), ...(spec.containers ?? [])].find((c) => c.name === INIT_CONTAINER && Array.isArray(c.args) && c.args.includes('--bootstrap-out'));
  if (!init) return undefined;
  const args = (init.args ?? []).map(String);
  const flags: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) continue;
    const eq = a.indexOf('=');
    const [name, value] = eq > 0 ? [a.slice(2, eq), a.slice(eq + 1)] : [a.slice(2), args[i + 1]];
    if (eq < 0) i++;
    if (value !== undefined) flags[name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())] = value;
  }
  const keys: (keyof BootstrapFlags)[] = ['bootstrapOut', 'meshVersion', 'trustDomain', 'xdsAddress', 'xdsMode', 'adminPort', 'statsPort', 'readinessPort', 'appProbes'];
  return Object.fromEntries(keys.filter((k) => flags[k] !== undefined).map((k) => [k, flags[k]])) as BootstrapFlags;
}

/**
 * The Envoy bootstrap mesh-init writes for `pod` at start (the same envoyBootstrap, from the flags
 * on its mesh-init container and the pod's downward-API fields), or undefined when the pod has no
 * mesh-init. `ip` stands in for status.podIP when the pod has none yet (offline: not assigned).
 */
export function bootstrapOfPod(pod: KubeObject, ip = '(assigned at run time)'): BootstrapOptions | undefined {
  const flags = bootstrapFlagsOf(pod);
  if (!flags) return undefined;
  const spec = (pod.spec ?? {}) as { serviceAccountName?: string };
  const env = {
    POD_NAME: pod.metadata.name,
    POD_NAMESPACE: pod.metadata.namespace ?? 'default',
    POD_IP: (pod.status as { podIP?: string } | undefined)?.podIP || ip,
    SERVICE_ACCOUNT: spec.serviceAccountName || 'default',
  };
  return validateBootstrapFlags(flags, env)?.options;
}

/** The bootstrap as proto3 JSON (what Envoy's BootstrapConfigDump shows), or undefined. */
export function bootstrapJsonOfPod(pod: KubeObject, ip?: string): Record<string, unknown> | undefined {
  const o = bootstrapOfPod(pod, ip);
  return o ? envoyBootstrap(o) : undefined;
}

/** The port the pod's proxy serves its admin API on (its mesh-init --admin-port; default proxy.adminPort). */
export function adminPortOf(pod: KubeObject): number {
  const p = Number(bootstrapFlagsOf(pod)?.adminPort);
  return Number.isInteger(p) && p > 0 && p < 65536 ? p : DEFAULTS.proxy.adminPort;
}

/** An admin API answer. */
export interface AdminResponse {
  status: number;
  body: string;
}

/**
 * One request to a pod's Envoy admin API through a port-forward: a listener on a free loopback
 * port that tunnels its one connection to the pod, closed when the answer is in. Rejects with a
 * MeshError (exit 3) when the tunnel cannot be opened or the proxy does not answer.
 */
export async function adminRequest(cluster: Cluster, target: { namespace: string; pod: string; port: number }, method: 'GET' | 'POST', path: string): Promise<AdminResponse> {
  if (!cluster.portForward) throw new MeshError(`this cluster connection (${cluster.contextName}) cannot port-forward to the proxy's admin port`, { hint: 'run against a live cluster (--context)', exitCode: ExitCode.Cluster });
  const forward = cluster.portForward.bind(cluster);
  const what = `${method} ${path} on the proxy admin port ${target.namespace}/${target.pod}:${target.port}`;
  let forwardError: unknown;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => socket.destroy());
    forward(target, socket).catch((err: unknown) => {
      forwardError = err;
      socket.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  try {
    return await new Promise<AdminResponse>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path, agent: false, headers: { Connection: 'close' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  } catch (err) {
    if (forwardError instanceof MeshError) throw forwardError;
    const why = forwardError ?? err;
    throw new MeshError(`${what} failed: ${why instanceof Error ? why.message : String(why)}`, {
      hint: `is the pod's proxy running? (kubectl get pod ${target.pod} -n ${target.namespace}); port-forwarding needs RBAC "create" on "pods/portforward"`,
      exitCode: ExitCode.Cluster,
    });
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
