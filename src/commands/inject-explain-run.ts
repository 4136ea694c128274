import { MESH_CONFIG_KEY, MESH_CONFIG_NAME, WEBHOOK_NAME } from '../constants.js';
import type { Cluster, ConnectOptions, KubeObject } from '../cluster/types.js';
import { KINDS as REF_KINDS, parseResourceRef } from '../cluster/resource-ref.js';
import { inputError, usageError } from '../errors.js';
import type { Ui } from '../ui/context.js';
import { explainInjection, type ExplainInput, type InjectExplanation, type WebhookOrigin } from '../manifests/inject-explain.js';
import { resolveNativeSidecar } from '../manifests/inject.js';
import { resolveValues, type NativeSidecar, type Values } from '../manifests/values.js';
import { isObject } from '../util/object.js';

/**
 * The shell of `mesh inject --explain REF`: reads the workload, its Namespace and the installed
 * webhook (live, or from -f files), and prints explainInjection's answer.
 */

/** Options of `mesh inject --explain`. */
export interface ExplainRunOptions {
  /** POD, or TYPE/NAME (pod, deploy, sts, ds, rs, job, cronjob). */
  ref: string;
  /** -n; undefined = the kubeconfig context's namespace, else "default". */
  namespace?: string;
  /** -f: explain offline from these files; empty = live. */
  files: string[];
  recursive: boolean;
  output: 'text' | 'json' | 'yaml';
  /** --mesh-namespace / --set namespace: where the mesh-config lives (default from values). */
  sets: string[];
  valuesFiles: { source: string; values: unknown }[];
  profile?: string;
  kubeconfig?: string;
  context?: string;
}

/** What the runner needs from outside (tests hand in a cluster). */
export interface ExplainDeps {
  connect?: (opts: ConnectOptions) => Promise<Cluster>;
}

// The workload kinds of TYPE/NAME (src/cluster/resource-ref.ts), and the batch kinds it does not name.
const KINDS: Record<string, { apiVersion: string; kind: string }> = {
  pod: REF_KINDS.pod,
  deploy: REF_KINDS.deploy,
  sts: REF_KINDS.sts,
  ds: REF_KINDS.ds,
  job: { apiVersion: 'batch/v1', kind: 'Job' },
  cronjob: { apiVersion: 'batch/v1', kind: 'CronJob' },
};
const BATCH_ALIASES: Record<string, string> = { job: 'job', jobs: 'job', cronjob: 'cronjob', cronjobs: 'cronjob', cj: 'cronjob' };

/** POD or TYPE/NAME as kubectl spells them (deploy/, sts/, ds/, pod/, job/, cronjob/); usage error (exit 2) otherwise. */
export function parseExplainRef(ref: string): { apiVersion: string; kind: string; name: string } {
  if (!ref.includes('/')) {
    if (!ref) throw usageError('--explain needs a pod name or TYPE/NAME', 'for example: mesh inject --explain deploy/web -n shop');
    return { ...KINDS.pod!, name: ref };
  }
  const [k, name, extra] = ref.split('/');
  const batch = BATCH_ALIASES[(k ?? '').toLowerCase()];
  if (batch && name && extra === undefined) return { ...KINDS[batch]!, name };
  const r = parseResourceRef(ref, '--explain');
  if (!r.name || !KINDS[r.kind]) throw usageError(`--explain "${ref}" is not a workload`, 'name a pod, deploy/NAME, sts/NAME, ds/NAME, job/NAME or cronjob/NAME');
  return { ...KINDS[r.kind]!, name: r.name };
}

const labelsOf = (o: KubeObject | undefined): Record<string, string> | undefined => (o ? { ...(o.metadata.labels ?? {}) } : undefined);
const webhooksOf = (mwc: KubeObject | undefined): ExplainInput['webhooks'] => (mwc && Array.isArray(mwc.webhooks) ? (mwc.webhooks as unknown[]).filter(isObject) : undefined);

/** Values from an installed mesh-config ConfigMap (when there is one), else the defaults with the values flags. */
async function valuesFrom(cm: KubeObject | undefined, o: ExplainRunOptions): Promise<Values> {
  const data = (cm?.data as Record<string, string> | undefined)?.[MESH_CONFIG_KEY];
  if (data === undefined) return resolveValues({ profile: o.profile, files: o.valuesFiles, sets: o.sets });
  const { parse } = await import('yaml');
  let installed: unknown;
  try {
    installed = parse(data);
  } catch (err) {
    throw inputError(`ConfigMap ${cm!.metadata.namespace ?? ''}/${MESH_CONFIG_NAME}: invalid YAML in ${MESH_CONFIG_KEY}`, 'run "mesh upgrade" to rewrite it', err);
  }
  return resolveValues({ profile: o.profile, files: [{ source: `ConfigMap ${MESH_CONFIG_NAME}`, values: installed }, ...o.valuesFiles], sets: o.sets });
}

/** Read what the explanation needs live. */
async function gatherLive(o: ExplainRunOptions, ref: ReturnType<typeof parseExplainRef>, deps: ExplainDeps): Promise<ExplainInput> {
  const connect = deps.connect ?? (await import('../cluster/index.js')).connect;
  const cluster = await connect({ kubeconfig: o.kubeconfig, context: o.context });
  const namespace = o.namespace ?? cluster.defaultNamespace ?? 'default';
  const object = await cluster.get(ref.apiVersion, ref.kind, ref.name, namespace);
  if (!object) throw inputError(`${ref.kind} ${namespace}/${ref.name} not found`, `check the name and -n (kubectl -n ${namespace} get ${ref.kind.toLowerCase()})`);
  const defaults = resolveValues({ profile: o.profile, files: o.valuesFiles, sets: o.sets });
  const [ns, mwc, cm, version] = await Promise.all([
    cluster.get('v1', 'Namespace', namespace),
    cluster.get('admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration', WEBHOOK_NAME),
    cluster.get('v1', 'ConfigMap', MESH_CONFIG_NAME, defaults.namespace),
    cluster.serverVersion(),
  ]);
  const values = await valuesFrom(cm, o);
  const native = resolveNativeSidecar(values.proxy.nativeSidecar as NativeSidecar, `${version.major.replace(/\D/g, '')}.${version.minor.replace(/\D/g, '')}`).enabled;
  const webhooks = webhooksOf(mwc);
  return { object, namespace, namespaceLabels: labelsOf(ns), webhooks, origin: webhooks ? 'cluster' : 'not installed', values, nativeSidecar: native };
}

/** Read what the explanation needs from -f files: the installed webhook among them, else the default rendering. */
async function gatherFiles(o: ExplainRunOptions, ref: ReturnType<typeof parseExplainRef>): Promise<ExplainInput> {
  const { loadObjects } = await import('../cluster/files.js');
  const objects = (await loadObjects(o.files, { recursive: o.recursive })).map((x) => x.object);
  const namespace = o.namespace ?? 'default';
  const object = objects.find((x) => x.kind === ref.kind && x.metadata?.name === ref.name && (x.metadata.namespace ?? 'default') === namespace);
  if (!object) throw inputError(`${ref.kind} ${namespace}/${ref.name} is not in ${o.files.join(', ')}`, 'check the name and -n (documents without metadata.namespace are in "default")');
  const defaults = resolveValues({ profile: o.profile, files: o.valuesFiles, sets: o.sets });
  const cm = objects.find((x) => x.kind === 'ConfigMap' && x.metadata?.name === MESH_CONFIG_NAME);
  const values = await valuesFrom(cm, o);
  let mwc = objects.find((x) => x.kind === 'MutatingWebhookConfiguration' && x.metadata?.name === WEBHOOK_NAME);
  let origin: WebhookOrigin = 'files';
  if (!mwc) {
    const [{ renderManifests }, { loadTemplates }] = await Promise.all([import('../manifests/render.js'), import('../install/templates.js')]);
    mwc = renderManifests(cm ? values : defaults, loadTemplates()).find((x) => x.kind === 'MutatingWebhookConfiguration');
    origin = 'default rendering';
  }
  const ns = objects.find((x) => x.kind === 'Namespace' && x.metadata?.name === namespace);
  const native = resolveNativeSidecar(values.proxy.nativeSidecar as NativeSidecar).enabled;
  return { object, namespace, namespaceLabels: labelsOf(ns), webhooks: webhooksOf(mwc), origin, values, nativeSidecar: native };
}

/** Explain, live or from files. */
export async function explain(o: ExplainRunOptions, deps: ExplainDeps = {}): Promise<InjectExplanation> {
  const ref = parseExplainRef(o.ref);
  return explainInjection(o.files.length ? await gatherFiles(o, ref) : await gatherLive(o, ref, deps));
}

/** Render the explanation for people: the verdict, then each condition tested. */
export function renderExplanation(e: InjectExplanation, ui: Pick<Ui, 'color'>): string {
  const mark = (s: InjectExplanation['steps'][number]) => (s.outcome === 'pass' ? ui.color.green('✓') : ui.color.red('✗'));
  const width = Math.max(...e.steps.map((s) => s.condition.length));
  const lines = [`${e.kind.toLowerCase()}/${e.name} in namespace ${e.namespace}: ${e.inject ? ui.color.green(e.summary) : ui.color.yellow(e.summary)}`];
  for (const s of e.steps) lines.push(`  ${mark(s)} ${s.condition.padEnd(width)}  ${s.detail}`);
  return lines.join('\n') + '\n';
}

/** Run `mesh inject --explain`; returns the exit code (0 whether or not the pod would be injected). */
export async function runExplain(o: ExplainRunOptions, ui: Ui, deps: ExplainDeps = {}): Promise<number> {
  const e = await explain(o, deps);
  if (o.output === 'text') ui.out.write(renderExplanation(e, ui));
  else {
    const { renderData } = await import('../ui/output.js');
    ui.out.write(renderData(e, o.output));
  }
  return 0;
}
