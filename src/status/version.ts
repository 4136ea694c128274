import { LABEL_PROXY_VERSION, LABEL_VERSION, CONTROLLER_NAME, LABEL_NAME } from '../constants.js';
import type { Cluster } from '../cluster/types.js';
import type { VersionOptions } from '../commands/version.js';
import type { Ui } from '../ui/context.js';
import { ExitCode, MeshError, toMeshError } from '../errors.js';
import { VERSION } from '../version.js';

/** The stable shape of `mesh version -o json`. */
export interface VersionReport {
  client: { version: string; node: string; platform: string };
  server?: { kubernetes: string; context: string };
  controlPlane?: { version: string; replicas: number; namespace: string }[];
  dataPlane?: { version: string; proxies: number }[];
  /** Why the server part is missing, when it is. */
  note?: string;
}

/**
 * Ask the cluster which control plane and proxies run. The control plane is every Deployment
 * labelled app.kubernetes.io/name=mesh-controller; proxies are pods labelled with their version.
 */
export async function collectServerVersions(cluster: Cluster): Promise<Required<Pick<VersionReport, 'server' | 'controlPlane' | 'dataPlane'>>> {
  const [kube, deployments, pods] = await Promise.all([
    cluster.serverVersion(),
    cluster.list('apps/v1', 'Deployment', { labelSelector: `${LABEL_NAME}=${CONTROLLER_NAME}` }),
    cluster.list('v1', 'Pod', { labelSelector: LABEL_PROXY_VERSION }),
  ]);
  const controlPlane = deployments.map((d) => ({
    version: d.metadata.labels?.[LABEL_VERSION] ?? 'unknown',
    replicas: Number((d.status as { readyReplicas?: number } | undefined)?.readyReplicas ?? 0),
    namespace: d.metadata.namespace ?? '',
  }));
  const counts = new Map<string, number>();
  for (const p of pods) {
    const v = p.metadata.labels?.[LABEL_PROXY_VERSION] ?? 'unknown';
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  const dataPlane = [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([version, proxies]) => ({ version, proxies }));
  return { server: { kubernetes: kube.gitVersion, context: cluster.contextName }, controlPlane, dataPlane };
}

/** Runs `mesh version`; returns the exit code (3 when the cluster part was asked for but unreachable). */
export async function runVersion(opts: VersionOptions, ui: Ui, connect?: () => Promise<Cluster>): Promise<number> {
  const report: VersionReport = { client: { version: VERSION, node: process.version, platform: `${process.platform}/${process.arch}` } };
  let code: number = ExitCode.Ok;
  let failure: MeshError | undefined;
  if (!opts.client) {
    try {
      const cluster = connect ? await connect() : await (await import('../cluster/index.js')).connect({ kubeconfig: opts.kubeconfig, context: opts.context, timeoutMs: 5000 });
      Object.assign(report, await collectServerVersions(cluster));
    } catch (err) {
      failure = toMeshError(err);
      report.note = `server versions unavailable: ${failure.message}`;
      code = failure.exitCode;
    }
  }
  if (opts.output !== 'table') {
    const { renderData } = await import('../ui/output.js');
    ui.out.write(renderData(report, opts.output));
  } else {
    const lines = [`Client version: ${report.client.version}`];
    if (report.server) {
      lines.push(`Kubernetes:     ${report.server.kubernetes} (context ${report.server.context})`);
      if (report.controlPlane!.length === 0) lines.push('Control plane:  not installed');
      for (const cp of report.controlPlane!) lines.push(`Control plane:  ${cp.version} (${cp.replicas} ready in ${cp.namespace})`);
      if (report.dataPlane!.length === 0) lines.push('Data plane:     no proxies');
      for (const dp of report.dataPlane!) lines.push(`Data plane:     ${dp.version} (${dp.proxies} ${dp.proxies === 1 ? 'proxy' : 'proxies'})`);
    }
    ui.out.write(lines.join('\n') + '\n');
  }
  if (failure) {
    ui.err.write(ui.color.yellow(`note: ${report.note}`) + '\n' + (failure.hint ? `  hint: ${failure.hint}; "mesh version --client" skips the cluster\n` : ''));
  }
  return code;
}
