import type { Command } from 'commander';
import type { Cluster } from '../cluster/types.js';
import { ExitCode, type MeshError, toMeshError } from '../errors.js';
import { collectServerVersions, type VersionReport } from '../status/version.js';
import { globalsOf, makeUi, type Ui } from '../ui/context.js';
import { refuseGlobals } from './flags.js';
import { VERSION } from '../version.js';

/** What `mesh version` was asked for. */
export interface VersionOptions {
  client: boolean;
  output: 'table' | 'json' | 'yaml';
  kubeconfig?: string;
  context?: string;
}

/** `mesh version [--client]`. The handler (runVersion below) loads cluster code only without --client. */
export function define(cmd: Command): void {
  cmd
    .option('--client', 'print only the client version (never contacts a cluster)')
    .addHelpText('after', '\nExamples:\n  mesh version --client\n  mesh version -o json --context prod')
    .action(async (opts: { client?: boolean }, command: Command) => {
      const g = globalsOf(command);
      // Versions are read cluster-wide (the control plane wherever it runs, proxies in every namespace).
      const everywhere = { why: 'it reads versions across the whole cluster', hint: 'drop it' };
      refuseGlobals(command, 'mesh version', { namespace: everywhere, allNamespaces: everywhere });
      const ui = makeUi(g);
      const { parseOutputFormat } = await import('../ui/format.js');
      const output = parseOutputFormat(g.output, ['table', 'json', 'yaml'] as const, 'table');
      process.exitCode = await runVersion({ client: opts.client === true, output, kubeconfig: g.kubeconfig, context: g.context }, ui);
    });
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
      report.error = (await import('../ui/errors.js')).errorDocument(failure).error;
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
