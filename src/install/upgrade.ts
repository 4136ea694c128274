import semver from 'semver';
import { FIELD_MANAGER, MESH_CONFIG_NAME } from '../constants.js';
import type { Cluster, ConnectOptions, KubeObject } from '../cluster/types.js';
import { diffDocument, diffObjects, formatDiffs, objectKey } from '../manifests/diff.js';
import { renderData, renderObjects } from '../ui/output.js';
import { meshLabels, objectRef, OWNED_SELECTOR, RENDERED_KINDS, renderManifests, STAGES, stageOf } from '../manifests/render.js';
import { readValuesFiles } from '../cluster/values-files.js';
import type { ValuesFlags } from './values.js';
import { resolveValues, type Values } from '../manifests/values.js';
import type { Ui } from '../ui/context.js';
import { ExitCode, MeshError, usageError } from '../errors.js';
import { VERSION } from '../version.js';
import { ApplyInterrupted, applyStaged, type ApplyRecord } from './apply.js';
import { loadSuppliedCa, readRootCa, replacementCa } from './ca.js';
import { assertGatewayApiInstallable } from './gateway-api.js';
import { confirmIfInteractive, gatewayApiBundle, interruptedError, printSummary, progressHooks, type InstallDeps } from './install.js';
import { withInterrupt } from '../util/interrupt.js';
import { hideSecretData, liveCounterparts } from './manifest.js';
import { parseState, PREVIOUS_CONFIG_NAME, readState, type InstalledState } from './state.js';
import { loadTemplates } from './templates.js';
import { assertCrdsUpgradable, crdOwners } from './crd-ownership.js';

/** Options of `mesh upgrade`. */
export interface UpgradeOptions extends ValuesFlags, ConnectOptions {
  namespace: string;
  rollback: boolean;
  /** Allow a downgrade. */
  force: boolean;
  /** Start from the new profile defaults instead of the installed overrides. */
  resetValues: boolean;
  wait: boolean;
  timeoutMs: number;
  forceConflicts: boolean;
  /** Also apply the official Gateway API CRDs of the pinned release; without it they are left as they are (never pruned). */
  gatewayApi?: boolean;
  gatewayApiCrds?: string;
  /** Overwrite CRDs another tool (Helm, a controller) manages, and manage them from now on. */
  takeOverCrds?: boolean;
  /** Print what would change (diff and prune list) and stop before writing anything. */
  dryRun?: boolean;
  output: 'table' | 'json' | 'yaml' | 'name';
  /** --ca-cert/--ca-key: replace the root CA, even an expired one (see replacementCa). */
  caCert?: string;
  caKey?: string;
}

/** Validate upgrade flag combinations. */
export function validateUpgradeOptions(o: Pick<UpgradeOptions, 'rollback' | 'profile' | 'files' | 'sets' | 'resetValues' | 'caCert' | 'caKey'> & { gatewayApi?: boolean }): void {
  if (Boolean(o.caCert) !== Boolean(o.caKey)) throw usageError(`${o.caCert ? '--ca-key' : '--ca-cert'} is missing`, '--ca-cert and --ca-key go together');
  if (o.rollback && o.caCert) throw usageError('--rollback cannot replace the root CA', 'replace it with "mesh upgrade --ca-cert FILE --ca-key FILE"');
  if (o.rollback && (o.profile || o.files?.length || o.sets?.length || o.resetValues || o.gatewayApi)) {
    throw usageError('--rollback takes no values flags', 'it restores exactly the values recorded before the last upgrade');
  }
}

/**
 * Resolve the values an upgrade installs: the installed profile (or --profile) with the installed
 * overrides (unless --reset-values), then -f and --set. Overrides are re-resolved against this
 * CLI's defaults, so defaults that changed (images) move with the upgrade.
 */
export async function upgradeValues(installed: InstalledState, opts: UpgradeOptions): Promise<{ values: Values; profile: string }> {
  const profile = opts.profile ?? installed.profile;
  const base = opts.resetValues ? [] : [{ source: `installed values (ConfigMap ${opts.namespace}/${MESH_CONFIG_NAME} overrides.yaml)`, values: installed.overrides }];
  const files = await readValuesFiles(opts.files ?? []);
  return { values: resolveValues({ profile, files: [...base, ...files], sets: opts.sets }), profile };
}

/** Objects we own in the cluster that `rendered` no longer has (never CRDs, the namespace or the rollback record). */
export async function pruneCandidates(cluster: Cluster, rendered: readonly KubeObject[], namespace: string): Promise<KubeObject[]> {
  const keep = new Set(rendered.map(objectKey));
  const lists = await Promise.all(
    RENDERED_KINDS.filter((k) => k.kind !== 'CustomResourceDefinition' && k.kind !== 'Namespace').map((k) =>
      cluster.list(k.apiVersion, k.kind, { labelSelector: OWNED_SELECTOR, namespace: k.namespaced ? namespace : undefined }),
    ),
  );
  return lists
    .flat()
    .filter((o) => !keep.has(objectKey(o)) && !(o.kind === 'ConfigMap' && o.metadata.name === PREVIOUS_CONFIG_NAME))
    .sort((a, b) => STAGES.indexOf(stageOf(b)) - STAGES.indexOf(stageOf(a)) || objectRef(a).localeCompare(objectRef(b)));
}

/** The rollback record: mesh-config's data as it was before this upgrade. */
function previousConfig(installed: InstalledState, namespace: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: PREVIOUS_CONFIG_NAME, namespace, labels: meshLabels(installed.version) },
    data: installed.data,
  };
}

/** `mesh upgrade` and `mesh upgrade --rollback`. Returns the exit code. */
export async function runUpgrade(opts: UpgradeOptions, ui: Ui, deps: InstallDeps = {}): Promise<number> {
  const version = deps.version ?? VERSION;
  const cluster = deps.connect ? await deps.connect(opts) : await (await import('../cluster/index.js')).connect(opts);
  const installed = await readState(cluster, opts.namespace);
  if (!installed) {
    throw new MeshError(`mesh is not installed in namespace ${opts.namespace} (no ConfigMap ${MESH_CONFIG_NAME})`, { hint: 'run "mesh install", or pass --mesh-namespace with the namespace it was installed in' });
  }

  let target: { values: Values; profile: string; version: string };
  if (opts.rollback) {
    const prevCm = await cluster.get('v1', 'ConfigMap', PREVIOUS_CONFIG_NAME, opts.namespace);
    if (!prevCm) throw new MeshError('nothing to roll back to: no upgrade has been recorded', { hint: `the rollback record is ConfigMap ${opts.namespace}/${PREVIOUS_CONFIG_NAME}, written by mesh upgrade` });
    const prev = parseState(prevCm);
    if (prev.version !== version) {
      throw new MeshError(`the previous install was mesh ${prev.version}, but this is mesh ${version}: a rollback must be rendered by the ${prev.version} CLI`, {
        hint: `run "mesh upgrade --rollback" with mesh ${prev.version} (e.g. npx mesh@${prev.version} upgrade --rollback)`,
      });
    }
    target = { values: prev.values, profile: prev.profile, version };
  } else {
    const valid = semver.valid(installed.version) && semver.valid(version);
    if (valid && semver.gt(installed.version, version) && !opts.force) {
      throw new MeshError(`refusing to downgrade mesh from ${installed.version} to ${version}`, { hint: `use the ${installed.version} CLI, or pass --force to downgrade anyway` });
    }
    target = { ...(await upgradeValues(installed, opts)), version };
  }

  // A supplied root replaces the current one, which is then only read (it may be expired or broken).
  const supplied = await loadSuppliedCa(opts.caCert, opts.caKey, (l) => ui.err.write(l + '\n'));
  const current = supplied ? await readRootCa(cluster, opts.namespace).catch(() => undefined) : await readRootCa(cluster, opts.namespace);
  let ca = current;
  if (supplied) {
    const r = await replacementCa(supplied, current, new Date());
    ca = r.ca;
    if (opts.output === 'table') ui.err.write(`${r.note}\n`);
  }
  if (!ca) throw new MeshError(`the root CA Secret is missing from namespace ${opts.namespace}`, { hint: 'run "mesh install" to restore it (it creates a new root only when none exists)' });
  if (target.values.namespace !== opts.namespace) throw usageError(`upgrade cannot move the mesh from namespace ${opts.namespace} to ${target.values.namespace}`, 'uninstall and install again to change the namespace');
  // The Gateway API CRDs are never dropped by an upgrade (that would delete every user route):
  // CRDs are never pruned, so without --gateway-api they stay as they are.
  const gatewayApi = await gatewayApiBundle(opts, deps.gatewayApi);
  if (gatewayApi) await assertGatewayApiInstallable(cluster, deps.gatewayApi?.pin);
  const objects = renderManifests(target.values, loadTemplates(), { ca, version: target.version, profile: target.profile, gatewayApi });

  const live = await liveCounterparts(cluster, objects, opts.namespace);
  // Before anything is written: who manages each CRD, and whether the upgrade may touch it.
  const rawCrds = await Promise.all(objects.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => cluster.get(o.apiVersion, o.kind, o.metadata.name)));
  const crds = crdOwners(objects, rawCrds.filter((o): o is KubeObject => o !== undefined));
  if (opts.output === 'table') for (const o of crds) ui.err.write(`CRD ${o.name}: ${o.manager === 'absent' ? 'not installed (created by this upgrade)' : `managed by ${o.detail}`}\n`);
  assertCrdsUpgradable(crds, opts.takeOverCrds === true);
  const diffs = diffObjects(hideSecretData(live.filter((o) => !(o.kind === 'ConfigMap' && o.metadata.name === PREVIOUS_CONFIG_NAME))), hideSecretData(objects));
  if (opts.output === 'table') {
    ui.err.write(`upgrading mesh ${installed.version} -> ${target.version}${opts.rollback ? ' (rollback)' : ''} in namespace ${opts.namespace}\n`);
    ui.out.write(diffs.length ? formatDiffs(diffs, ui.color) : '');
    ui.err.write(diffs.length ? `${diffs.length} object(s) ${opts.dryRun ? 'would' : 'will'} change\n` : 'no differences from the cluster\n');
  }
  if (opts.dryRun) {
    const prune = (await pruneCandidates(cluster, objects, opts.namespace)).map(objectRef);
    if (opts.output === 'table') for (const p of prune) ui.out.write(`${p} would be pruned\n`);
    else if (opts.output === 'name') {
      const changed = new Set(diffs.filter((d) => d.change !== 'removed').map((d) => d.ref));
      ui.out.write(renderObjects(objects.filter((o) => changed.has(objectRef(o))), 'name'));
    } else ui.out.write(renderData({ from: installed.version, to: target.version, rollback: opts.rollback, ...diffDocument(diffs), prune, crds }, opts.output));
    ui.err.write('dry run: nothing was changed\n');
    return ExitCode.Ok;
  }
  await confirmIfInteractive(ui, deps, `${opts.rollback ? 'Roll back' : 'Upgrade'} mesh in ${cluster.contextName} to ${target.version}?`);

  // Record the rollback point, unless the cluster already holds the target (a re-run after an
  // interrupted upgrade must not overwrite the real previous state). An upgrade records it before
  // changing anything; a rollback only after it is done, because the record is what it reads: an
  // interrupted rollback that had replaced it would, re-run, "roll back" to the upgrade it undoes.
  const targetConfig = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === MESH_CONFIG_NAME)!;
  // Compare as sorted entries: the API server returns map keys in its own order.
  const sorted = (d: unknown) => JSON.stringify(Object.entries((d ?? {}) as Record<string, string>).sort(([a], [b]) => a.localeCompare(b)));
  const sameAsTarget = sorted(targetConfig.data) === sorted(installed.data);
  const recordPrevious = async (): Promise<void> => {
    if (!sameAsTarget) await cluster.apply(previousConfig(installed, opts.namespace), { fieldManager: FIELD_MANAGER, force: true });
  };
  if (!opts.rollback) await recordPrevious();

  // --take-over-crds: take the fields another manager (Helm, a controller) holds on those CRDs
  // first, so the staged apply below owns them without forcing anything else.
  const foreign = new Set(crds.filter((o) => o.manager === 'helm' || o.manager === 'other').map((o) => o.name));
  for (const o of objects) {
    if (o.kind === 'CustomResourceDefinition' && foreign.has(o.metadata.name)) await cluster.apply(o, { fieldManager: FIELD_MANAGER, force: true });
  }

  const progress = progressHooks(ui);
  let records: ApplyRecord[];
  const pruned: string[] = [];
  try {
    records = await withInterrupt((signal) => applyStaged(cluster, objects, { ...progress.hooks, force: opts.forceConflicts, wait: opts.wait, timeoutMs: opts.timeoutMs, signal }));
    progress.done();
  } catch (err) {
    progress.fail();
    if (err instanceof ApplyInterrupted) {
      throw interruptedError(err, `re-run "mesh upgrade${opts.rollback ? ' --rollback' : ''}" with the same flags to finish, or "mesh upgrade --rollback" to return to ${installed.version}`);
    }
    throw err;
  }
  for (const o of await pruneCandidates(cluster, objects, opts.namespace)) {
    await cluster.delete(o.apiVersion, o.kind, o.metadata.name, o.metadata.namespace);
    pruned.push(objectRef(o));
  }
  if (opts.rollback) await recordPrevious();
  printSummary(ui, records, opts.output, { from: installed.version, to: target.version, rollback: opts.rollback, pruned }, objects);
  if (opts.output === 'table') {
    for (const p of pruned) ui.out.write(`${p} pruned\n`);
    ui.err.write(`mesh ${target.version} is installed${opts.rollback ? ' (rolled back)' : ''}; "mesh upgrade --rollback" returns to the previous values\n`);
  }
  return ExitCode.Ok;
}
