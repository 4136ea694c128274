import semver from 'semver';
import type { Cluster, ConnectOptions, KubeObject } from '../cluster/types.js';
import { ROOT_CA_SECRET } from '../constants.js';
import { assertGatewayApiInstallable, loadGatewayApiBundle, type GatewayApiDeps } from './gateway-api.js';
import { parsePositiveDuration } from '../duration.js';
import { withInterrupt } from '../util/interrupt.js';
import { objectRef, renderManifests, type CaMaterial } from '../manifests/render.js';
import { loadValues, type ValuesFlags } from './values.js';
import type { Values } from '../manifests/values.js';
import type { Ui } from '../ui/context.js';
import { ExitCode, MeshError, toMeshError, usageError } from '../errors.js';
import { renderData, renderObjects } from '../ui/output.js';
import { startProgress, type Progress } from '../ui/progress.js';
import { VERSION } from '../version.js';
import { ApplyInterrupted, applyStaged, type ApplyHooks, type ApplyRecord } from './apply.js';
import { generateCa, loadSuppliedCa, readRootCa } from './ca.js';
import { readState } from './state.js';
import { loadTemplates } from './templates.js';

/** Options of `mesh install`, parsed and validated. */
export interface InstallOptions extends ValuesFlags, ConnectOptions {
  caCert?: string;
  caKey?: string;
  skipChecks: boolean;
  dryRun: boolean;
  wait: boolean;
  timeoutMs: number;
  forceConflicts: boolean;
  /** Also install the official Gateway API CRDs of the pinned release (src/install/gateway-api.ts). */
  gatewayApi?: boolean;
  /** The release's standard-install.yaml on disk instead of downloading it (air-gapped). */
  gatewayApiCrds?: string;
  output: 'table' | 'json' | 'yaml' | 'name';
}

/** What a handler needs from outside: how to connect and how to ask (tests replace both). */
export interface InstallDeps {
  connect?: (opts: ConnectOptions) => Promise<Cluster>;
  confirm?: (message: string) => Promise<boolean>;
  /** Version to install as (default: this CLI's); lets tests act as an older or newer CLI. */
  version?: string;
  /** Per-check time budget of the pre-install checks (default 20 s); tests shorten it. */
  checkTimeoutMs?: number;
  /** How --gateway-api gets its bundle (tests: a local file pinned by its own digest). */
  gatewayApi?: GatewayApiDeps;
}

/** Raw flags of install as commander gives them. */
export interface RawInstallFlags {
  profile?: string;
  values?: string[];
  set?: string[];
  caCert?: string;
  caKey?: string;
  skipChecks?: boolean;
  dryRun?: boolean;
  wait?: boolean;
  timeout?: string;
  forceConflicts?: boolean;
  gatewayApi?: boolean;
  gatewayApiCrds?: string;
}

/** Validate and normalise install flags (one place, table-tested). */
export function validateInstallOptions(raw: RawInstallFlags, output: InstallOptions['output'], conn: ConnectOptions = {}): InstallOptions {
  if (Boolean(raw.caCert) !== Boolean(raw.caKey)) throw usageError(`${raw.caCert ? '--ca-key' : '--ca-cert'} is missing`, '--ca-cert and --ca-key go together');
  return {
    profile: raw.profile,
    files: raw.values,
    sets: raw.set,
    caCert: raw.caCert,
    caKey: raw.caKey,
    skipChecks: raw.skipChecks === true,
    dryRun: raw.dryRun === true,
    wait: raw.wait !== false,
    timeoutMs: parsePositiveDuration(raw.timeout ?? '5m', '--timeout'),
    forceConflicts: raw.forceConflicts === true,
    gatewayApi: raw.gatewayApi === true || Boolean(raw.gatewayApiCrds),
    gatewayApiCrds: raw.gatewayApiCrds,
    output,
    kubeconfig: conn.kubeconfig,
    context: conn.context,
  };
}

/**
 * With --gateway-api: the verified bundle to apply (read or downloaded and checked before the
 * cluster is touched). Undefined without the flag.
 */
export async function gatewayApiBundle(opts: { gatewayApi?: boolean; gatewayApiCrds?: string }, deps: GatewayApiDeps = {}): Promise<KubeObject[] | undefined> {
  return opts.gatewayApi ? loadGatewayApiBundle(opts.gatewayApiCrds, deps) : undefined;
}

async function connectWith(deps: InstallDeps, opts: ConnectOptions): Promise<Cluster> {
  if (deps.connect) return deps.connect(opts);
  const { connect } = await import('../cluster/index.js');
  return connect(opts);
}

/** Ask on a TTY (src/ui/prompts.ts); proceed with --yes. The commands refuse a run with neither before this (requireConsent). */
export async function confirmIfInteractive(ui: Ui, deps: InstallDeps, message: string): Promise<void> {
  if (ui.yes || !ui.interactive) return;
  const ask = deps.confirm ?? (async (m: string) => (await import('../ui/prompts.js')).confirm(m, ui));
  if (!(await ask(message))) throw new MeshError('cancelled: nothing was changed', { exitCode: ExitCode.Failed });
}

/**
 * Decide the root CA: the cluster's existing Secret wins (a root is never regenerated, or workloads
 * would lose trust); --ca-cert/--ca-key must match it if both exist; otherwise the supplied root,
 * otherwise a new one generated now.
 */
export async function chooseCa(cluster: Cluster, values: Values, supplied: CaMaterial | undefined): Promise<{ ca: CaMaterial; source: 'existing' | 'supplied' | 'generated' }> {
  const existing = await readRootCa(cluster, values.namespace);
  if (existing) {
    if (supplied && supplied.certPem.trim() !== existing.certPem.trim()) {
      throw usageError(`Secret ${values.namespace}/${ROOT_CA_SECRET} already holds a different root CA than --ca-cert`, 'install never replaces a root (workloads would lose trust); drop --ca-cert/--ca-key, or delete the Secret first to rotate');
    }
    return { ca: existing, source: 'existing' };
  }
  if (supplied) return { ca: supplied, source: 'supplied' };
  return { ca: await generateCa(values.trustDomain, values.ca.rootCertTTL), source: 'generated' };
}

/** Secret data replaced by a marker, for printing. */
export function redactSecrets(objects: readonly KubeObject[]): KubeObject[] {
  return objects.map((o) => (o.kind === 'Secret' ? { ...o, data: Object.fromEntries(Object.keys((o.data ?? {}) as object).map((k) => [k, '<redacted>'])) } : o));
}

/** Counts of each apply action. */
export function countActions(records: readonly ApplyRecord[]): Record<'created' | 'configured' | 'unchanged', number> {
  const c = { created: 0, configured: 0, unchanged: 0 };
  for (const r of records) c[r.action]++;
  return c;
}

/** A stage-by-stage progress display fed by applyStaged's hooks. */
export function progressHooks(ui: Ui): { hooks: ApplyHooks; done(): void; fail(): void } {
  let p: Progress | undefined;
  let current = '';
  let count = 0;
  const finish = () => {
    if (p) p.succeed(`${current}${count ? ` (${count} object${count === 1 ? '' : 's'})` : ''}`);
    p = undefined;
  };
  return {
    hooks: {
      onStage(_stage, what) {
        finish();
        current = what;
        count = 0;
        p = startProgress(ui.err, `applying ${what}`, { interactive: ui.interactive });
      },
      onApplied() {
        count++;
      },
      onWait(text) {
        p?.update(text);
      },
    },
    done: finish,
    fail() {
      p?.fail(`${current}: failed`);
      p = undefined;
    },
  };
}

/** Print the per-object results and summary; returns the summary line. */
export function printSummary(ui: Ui, records: readonly ApplyRecord[], output: InstallOptions['output'], extra: Record<string, unknown>, objects: readonly KubeObject[]): void {
  const counts = countActions(records);
  if (output === 'name') {
    const applied = new Set(records.map((r) => r.ref));
    ui.out.write(renderObjects(objects.filter((o) => applied.has(objectRef(o))), 'name'));
    return;
  }
  if (output !== 'table') {
    ui.out.write(renderData({ ...extra, counts, objects: records.map((r) => ({ ref: r.ref, stage: r.stage, action: r.action })) }, output));
    return;
  }
  for (const r of records) if (r.action !== 'unchanged' || ui.verbose) ui.out.write(`${r.ref} ${r.action}\n`);
  if (counts.created + counts.configured === 0) ui.out.write(`nothing changed: all ${records.length} objects unchanged\n`);
  else ui.out.write(`${counts.created} created, ${counts.configured} configured, ${counts.unchanged} unchanged\n`);
}

/** Explain an interrupted apply: exactly what reached the cluster, and how to resume. */
export function interruptedError(err: ApplyInterrupted, resume: string): MeshError {
  const done = err.applied.map((r) => `${r.ref} (${r.action})`);
  return new MeshError(`${err.message} — stopped after applying ${err.applied.length} of ${err.total} objects${done.length ? `: ${done.join(', ')}` : ''}`, {
    hint: `${err.hint ? `${err.hint}; then ` : ''}${resume} (applying again is safe: unchanged objects stay unchanged)`,
    exitCode: err.exitCode,
    cause: err,
  });
}

/**
 * The pre-install checks, exactly `mesh check --pre`'s catalog, rendered as that command's table
 * on stderr (stdout stays for --dry-run's manifests). Throws the MeshError of
 * `preInstallFailure` (exit 3 forbidden or unreachable, 1 any other failed check) before anything
 * is applied; warnings and checks that could not run are shown and do not stop install.
 */
export async function checkBeforeInstall(cluster: Cluster, ui: Ui, opts: { namespace: string; version: string; timeoutMs?: number }): Promise<void> {
  const { preInstallFailure, runPreInstallChecks } = await import('../checks/index.js');
  const p = ui.interactive ? startProgress(ui.err, 'running pre-install checks', { interactive: true }) : undefined;
  const { results } = await runPreInstallChecks(cluster, opts).finally(() => p?.stop());
  const failure = preInstallFailure(results);
  // An unreachable API server fails every check the same way: one error line says it all.
  if (!results.some((r) => r.result.reason === 'unreachable')) {
    const [{ buildReport }, { renderTable }] = await Promise.all([import('../checks/report.js'), import('../ui/render/table.js')]);
    ui.err.write(renderTable(buildReport('pre', results, { failOn: 'error', outputThreshold: 'info' }, cluster.contextName), ui.color));
  }
  if (failure) throw failure;
  const warned = results.filter((r) => r.result.status === 'warn').length;
  const skipped = results.filter((r) => r.result.status === 'skip').length;
  const notes = [warned ? `${warned} warning${warned === 1 ? '' : 's'}` : '', skipped ? `${skipped} could not run` : ''].filter(Boolean);
  ui.err.write(`pre-install checks passed${notes.length ? ` (${notes.join(', ')}: they do not stop install)` : ''}\n\n`);
}

/** Install checks that a dry run repeats when a cluster answers (a newer mesh installed refuses). */
function assertNoDowngrade(installed: { version: string } | undefined, version: string): void {
  if (installed && semver.valid(installed.version) && semver.valid(version) && semver.gt(installed.version, version)) {
    throw new MeshError(`mesh ${installed.version} is installed, newer than this CLI (${version}): install will not downgrade it`, {
      hint: `use the ${installed.version} CLI, or "mesh upgrade --force" to downgrade on purpose`,
    });
  }
}

/**
 * `mesh install --dry-run`: print every object install would apply, the root CA Secret (data
 * redacted), the trust bundle and the webhook caBundle included. With a reachable cluster it runs
 * the pre-install checks and says per object whether it exists; with none (no kubeconfig, or the
 * API server does not answer) it prints what install creates on a new cluster. Without an existing
 * or supplied root, a root is generated for the printout only: install generates its own.
 */
async function dryRunInstall(opts: InstallOptions, ui: Ui, deps: InstallDeps, r: { values: Values; supplied: CaMaterial | undefined; version: string; gatewayApi: KubeObject[] | undefined }): Promise<number> {
  const { values, supplied, version, gatewayApi } = r;
  let cluster: Cluster | undefined;
  let installed: Awaited<ReturnType<typeof readState>>;
  try {
    cluster = await connectWith(deps, opts);
    installed = await readState(cluster, values.namespace);
  } catch (err) {
    const me = toMeshError(err);
    if (me.exitCode !== ExitCode.Cluster) throw err;
    ui.err.write(`note: no cluster (${me.message}): showing what install creates on a new cluster\n`);
    cluster = undefined;
  }
  let existing: CaMaterial | undefined;
  if (cluster) {
    if (!opts.skipChecks) await checkBeforeInstall(cluster, ui, { namespace: values.namespace, version, timeoutMs: deps.checkTimeoutMs });
    if (gatewayApi) await assertGatewayApiInstallable(cluster, deps.gatewayApi?.pin);
    assertNoDowngrade(installed, version);
    existing = await readRootCa(cluster, values.namespace);
  }
  const ca = existing ?? supplied ?? (await generateCa(values.trustDomain, values.ca.rootCertTTL));
  const objects = redactSecrets(renderManifests(values, loadTemplates(), { ca, version, profile: opts.profile, gatewayApi }));
  if (cluster) {
    const c = cluster;
    const got = await Promise.all(objects.map((o) => c.get(o.apiVersion, o.kind, o.metadata.name, o.metadata.namespace)));
    objects.forEach((o, i) => ui.err.write(`${objectRef(o)} ${got[i] ? 'exists (would be applied)' : 'would be created'}\n`));
  }
  if (!existing && !supplied) {
    ui.err.write(`Secret ${values.namespace}/${ROOT_CA_SECRET} would be created with a newly generated root CA; the trust bundle and caBundle shown are of a root generated for this dry run only\n`);
  }
  ui.out.write(renderObjects(objects, opts.output === 'table' ? 'yaml' : opts.output));
  ui.err.write(`dry run: nothing was changed (${objects.length} objects, Secret data redacted)\n`);
  return ExitCode.Ok;
}

/** `mesh install`. Returns the exit code. */
export async function runInstall(opts: InstallOptions, ui: Ui, deps: InstallDeps = {}): Promise<number> {
  const version = deps.version ?? VERSION;
  const values = await loadValues(opts);
  const supplied = await loadSuppliedCa(opts.caCert, opts.caKey, (l) => ui.err.write(l + '\n'));
  const gatewayApi = await gatewayApiBundle(opts, deps.gatewayApi);
  if (opts.dryRun) return dryRunInstall(opts, ui, deps, { values, supplied, version, gatewayApi });
  const cluster = await connectWith(deps, opts);

  if (!opts.skipChecks) await checkBeforeInstall(cluster, ui, { namespace: values.namespace, version, timeoutMs: deps.checkTimeoutMs });

  if (gatewayApi) await assertGatewayApiInstallable(cluster, deps.gatewayApi?.pin);
  const installed = await readState(cluster, values.namespace);
  assertNoDowngrade(installed, version);
  if (installed && installed.version !== version) {
    ui.err.write(`note: mesh ${installed.version} is installed; "mesh upgrade" shows the diff, prunes and keeps a rollback point\n`);
  }

  await confirmIfInteractive(ui, deps, `Install mesh ${version} into ${cluster.contextName} (namespace ${values.namespace})?`);
  const { ca, source } = await chooseCa(cluster, values, supplied);
  if (source === 'generated') ui.err.write(`generated a new root CA for trust domain ${values.trustDomain}\n`);
  const objects = renderManifests(values, loadTemplates(), { ca, version, profile: opts.profile, gatewayApi });
  const progress = progressHooks(ui);
  let records: ApplyRecord[];
  try {
    records = await withInterrupt((signal) => applyStaged(cluster, objects, { ...progress.hooks, force: opts.forceConflicts, wait: opts.wait, timeoutMs: opts.timeoutMs, signal }));
    progress.done();
  } catch (err) {
    progress.fail();
    if (err instanceof ApplyInterrupted) throw interruptedError(err, 're-run the same mesh install command to finish');
    throw err;
  }
  printSummary(ui, records, opts.output, { version, namespace: values.namespace }, objects);
  if (opts.output === 'table') ui.err.write(`mesh ${version} is installed in namespace ${values.namespace}${opts.wait ? ' and ready' : ''}\n`);
  return ExitCode.Ok;
}
