import type { Cluster, ConnectOptions, KubeObject } from '../cluster/types.js';
import { MESH_DOMAIN } from '../constants.js';
import { objectRef, OWNED_SELECTOR, RENDERED_KINDS, STAGES, stageOf, type Stage } from '../manifests/render.js';
import type { Ui } from '../ui/context.js';
import { ExitCode } from '../errors.js';
import { renderData, renderObjects } from '../ui/output.js';
import { startProgress } from '../ui/progress.js';
import { confirmIfInteractive, type InstallDeps } from './install.js';

/** Options of `mesh uninstall`. */
export interface UninstallOptions extends ConnectOptions {
  namespace: string;
  /** Also delete our CRDs, and with them every user AuthorizationPolicy and MTLSPolicy. */
  purge: boolean;
  dryRun: boolean;
  output: 'table' | 'json' | 'yaml' | 'name';
}

/** Deletion order: the webhook first (so no pod creation waits on a dying controller), then the rest in reverse apply order. */
export const UNINSTALL_ORDER: readonly Stage[] = ['webhook', ...STAGES.filter((s) => s !== 'webhook').reverse()];

/** Everything we own that uninstall deletes, grouped by stage in deletion order. */
export async function uninstallPlan(cluster: Cluster, namespace: string, purge: boolean): Promise<{ stage: Stage; objects: KubeObject[] }[]> {
  const kinds = RENDERED_KINDS.filter((k) => purge || k.kind !== 'CustomResourceDefinition');
  const lists = await Promise.all(kinds.map((k) => cluster.list(k.apiVersion, k.kind, { labelSelector: OWNED_SELECTOR, namespace: k.namespaced ? namespace : undefined })));
  const all = lists.flat().filter((o) => o.kind !== 'Namespace' || o.metadata.name === namespace);
  // Only CRDs of our group, never another group's: the Gateway API CRDs --gateway-api installed
  // are shared with every gateway controller and stay (they are not labelled part of the release).
  const owned = all.filter((o) => o.kind !== 'CustomResourceDefinition' || o.metadata.name.endsWith(`.${MESH_DOMAIN}`));
  return UNINSTALL_ORDER.map((stage) => ({ stage, objects: owned.filter((o) => stageOf(o) === stage).sort((a, b) => objectRef(a).localeCompare(objectRef(b))) })).filter((g) => g.objects.length > 0);
}

/** `mesh uninstall`. Returns the exit code. */
export async function runUninstall(opts: UninstallOptions, ui: Ui, deps: InstallDeps = {}): Promise<number> {
  const cluster = deps.connect ? await deps.connect(opts) : await (await import('../cluster/index.js')).connect(opts);
  const plan = await uninstallPlan(cluster, opts.namespace, opts.purge);
  const refs = plan.flatMap((g) => g.objects.map(objectRef));
  if (refs.length === 0) {
    ui.err.write(`nothing to uninstall: no objects labelled ${OWNED_SELECTOR} (namespace ${opts.namespace})\n`);
    if (opts.output === 'json' || opts.output === 'yaml') ui.out.write(renderData(opts.dryRun ? { wouldDelete: [] } : { deleted: [], kept: [] }, opts.output));
    return ExitCode.Ok;
  }
  if (opts.dryRun) {
    if (opts.output === 'table') for (const r of refs) ui.out.write(`${r} would be deleted\n`);
    else if (opts.output === 'name') ui.out.write(renderObjects(plan.flatMap((g) => g.objects), 'name'));
    else ui.out.write(renderData({ wouldDelete: refs }, opts.output));
    ui.err.write('dry run: nothing was changed\n');
    return ExitCode.Ok;
  }
  await confirmIfInteractive(ui, deps, `Delete ${refs.length} mesh objects from ${cluster.contextName}${opts.purge ? ', including the CRDs and every mesh policy' : ''}?`);
  const deleted: string[] = [];
  for (const group of plan) {
    const p = startProgress(ui.err, `deleting ${group.stage}`, { interactive: ui.interactive });
    try {
      await Promise.all(
        group.objects.map(async (o) => {
          if (await cluster.delete(o.apiVersion, o.kind, o.metadata.name, o.metadata.namespace, { propagation: 'Background' })) deleted.push(objectRef(o));
        }),
      );
      p.succeed(`deleted ${group.stage} (${group.objects.length})`);
    } catch (err) {
      p.fail(`deleting ${group.stage} failed`);
      throw err;
    }
  }
  deleted.sort();
  const kept = opts.purge ? [] : ['CustomResourceDefinitions authorizationpolicies.mesh.dev, mtlspolicies.mesh.dev, externalservices.mesh.dev, trafficpolicies.mesh.dev and all mesh policies (the Gateway API CRDs are never removed by mesh: they may serve other controllers)'];
  if (opts.output === 'name') ui.out.write(renderObjects(plan.flatMap((g) => g.objects).filter((o) => deleted.includes(objectRef(o))), 'name'));
  else if (opts.output !== 'table') ui.out.write(renderData({ deleted, kept }, opts.output));
  else {
    for (const d of deleted) ui.out.write(`${d} deleted\n`);
    ui.out.write(`${deleted.length} objects deleted\n`);
    if (!opts.purge) ui.err.write('kept the mesh CRDs and policies; "mesh uninstall --purge" removes them too\n');
  }
  return ExitCode.Ok;
}
