import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { Cluster, KubeObject } from '../cluster/types.js';
import { diffDocument, diffObjects, formatDiffs, projectLive } from '../manifests/diff.js';
import { renderData, renderObjects } from '../ui/output.js';
import { OWNED_SELECTOR, RENDERED_KINDS, renderManifests } from '../manifests/render.js';
import { loadValues, type ValuesFlags } from './values.js';
import type { Ui } from '../ui/context.js';
import { ExitCode, inputError, usageError } from '../errors.js';
import { ROOT_CA_SECRET, TRUST_BUNDLE_CONFIGMAP, WEBHOOK_NAME } from '../constants.js';
import { generateCa, loadSuppliedCa } from './ca.js';
import { loadTemplates } from './templates.js';
import { dashboardFiles } from '../manifests/dashboards.js';
import { meshImages, type MeshImage } from './images.js';

/** Options of `mesh manifest generate`. */
export interface ManifestGenerateOptions extends ValuesFlags {
  caCert?: string;
  caKey?: string;
  /** Also render the official Gateway API CRDs of the pinned release (downloaded, or gatewayApiCrds). */
  gatewayApi?: boolean;
  gatewayApiCrds?: string;
  /** Generate a new root CA and include it (the output is then no longer the same on each run). */
  generateCa?: boolean;
  /** Instead of the control plane: NetworkPolicies for the workloads and AuthorizationPolicies in these manifests. */
  networkPolicies?: string[];
  output: 'yaml' | 'json' | 'name';
}

/** What manifest generate leaves out without a root CA, and how to add it: one stderr note. */
export function missingCaNote(namespace: string): string {
  return [
    `note: no root CA given, so the output leaves out Secret ${namespace}/${ROOT_CA_SECRET} and ConfigMap ${namespace}/${TRUST_BUNDLE_CONFIGMAP},`,
    `  and MutatingWebhookConfiguration ${WEBHOOK_NAME} has no caBundle: the API server cannot call the webhook,`,
    '  so pods in injected namespaces are not created (failurePolicy Fail) until it has one.',
    '  to apply the output as is, add --generate-ca (a new root, printed with its key) or --ca-cert FILE --ca-key FILE;',
    '  or let "mesh install" create the root in the cluster.',
  ].join('\n') + '\n';
}

/**
 * Print the rendered control plane. With --ca-cert/--ca-key (or --generate-ca) the root CA Secret,
 * trust bundle and webhook caBundle are included, so the output runs as applied; without them they
 * are left out (stderr says what is missing and how to add it), so the output never holds random
 * material and is byte-identical for the same input (what golden files need).
 */
export async function runManifestGenerate(opts: ManifestGenerateOptions, ui: Ui): Promise<number> {
  if (opts.generateCa && (opts.caCert || opts.caKey)) throw usageError('--generate-ca and --ca-cert/--ca-key exclude each other', 'use your own root with --ca-cert/--ca-key, or --generate-ca for a new one');
  const values = await loadValues(opts);
  if (opts.networkPolicies?.length) {
    if (opts.generateCa || opts.caCert || opts.gatewayApi) throw usageError('--network-policies prints only NetworkPolicies', 'drop --generate-ca, --ca-cert/--ca-key and --gateway-api, or render the control plane in a second run');
    const [{ FilesSource }, { buildModel, withTemplatePods }, { networkPolicies }] = await Promise.all([import('../cluster/files-source.js'), import('../model/index.js'), import('../manifests/network-policies.js')]);
    const objects = (await new FilesSource(opts.networkPolicies, { watchFiles: false }).list()).map((o) => o.object);
    const model = buildModel(withTemplatePods(objects), { trustDomain: values.trustDomain, defaultMtls: values.mtls.mode, defaultDeny: values.authorization.defaultDeny });
    ui.out.write(renderObjects(networkPolicies(model, { proxyInboundPort: values.proxy.inboundPort }), opts.output));
    return ExitCode.Ok;
  }
  let ca = await loadSuppliedCa(opts.caCert, opts.caKey, (l) => ui.err.write(l + '\n'));
  if (opts.generateCa) {
    ca = await generateCa(values.trustDomain, values.ca.rootCertTTL);
    ui.err.write(`generated a new root CA for trust domain ${values.trustDomain}: the output holds its private key (Secret ${values.namespace}/${ROOT_CA_SECRET}); keep it out of version control or seal it\n`);
  }
  const gatewayApi = opts.gatewayApi ? await (await import('./gateway-api.js')).loadGatewayApiBundle(opts.gatewayApiCrds) : undefined;
  const objects = renderManifests(values, loadTemplates(), { ca, gatewayApi });
  ui.out.write(renderObjects(objects, opts.output));
  if (!ca) ui.err.write(missingCaNote(values.namespace));
  return ExitCode.Ok;
}

/**
 * `mesh manifest generate --dashboards DIR`: the Grafana dashboards the addon provisions, as JSON
 * files for a Grafana of your own (DIR is created when missing; files of the same name are
 * replaced). stdout lists the files written, one per line.
 */
export async function runWriteDashboards(dir: string, ui: Ui): Promise<number> {
  try {
    await mkdir(dir, { recursive: true });
    for (const [name, text] of Object.entries(dashboardFiles())) {
      const path = join(dir, name);
      await writeFile(path, text);
      ui.out.write(`${path}\n`);
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw inputError(`--dashboards ${dir}: cannot write there: ${e.code === 'ENOTDIR' || e.code === 'EEXIST' ? 'not a directory' : e.message}`, 'give a directory you can write to', err);
  }
  ui.err.write('import them in Grafana (Dashboards > New > Import), choosing your Prometheus as the datasource; see docs/observability.md\n');
  return ExitCode.Ok;
}

/** Print `mesh manifest images`: every image the values deploy (src/install/images.ts). */
export async function runManifestImages(opts: ValuesFlags & { output: 'table' | 'json' | 'yaml' }, ui: Ui): Promise<number> {
  const values = await loadValues(opts);
  const images = meshImages(values);
  if (opts.output === 'table') {
    const { renderTable } = await import('../ui/output.js');
    ui.out.write(renderTable<MeshImage>(images, [
      { header: 'COMPONENT', value: (i) => i.component },
      { header: 'IMAGE', value: (i) => i.image },
      { header: 'DIGEST', value: (i) => i.digest ?? '-' },
    ], {}));
  } else ui.out.write(renderData({ images }, opts.output));
  return ExitCode.Ok;
}

/** Options of `mesh manifest diff`. */
export interface ManifestDiffOptions extends ValuesFlags {
  /** Two rendered files (A then B), or none with `cluster`. */
  paths: string[];
  cluster: boolean;
  kubeconfig?: string;
  context?: string;
  /** table: the unified diff; json|yaml: diffDocument. */
  output: 'table' | 'json' | 'yaml';
}

/** Parse a multi-document YAML (or a v1 List) into objects; errors name the file and line. */
export async function readObjects(path: string): Promise<KubeObject[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw inputError(`cannot read ${path}: ${(err as { code?: string }).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, 'check the path', err);
  }
  const out: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) {
      const e = doc.errors[0]!;
      throw inputError(`${path}:${e.linePos?.[0]?.line ?? '?'}: not valid YAML: ${e.message.split('\n')[0]}`, 'fix the YAML syntax');
    }
    const o = doc.toJS() as KubeObject | null;
    if (o === null) continue;
    const items = o.kind === 'List' && Array.isArray(o.items) ? (o.items as KubeObject[]) : [o];
    for (const item of items) {
      if (!item?.kind || !item.apiVersion || !item.metadata?.name) throw inputError(`${path}: a document has no apiVersion, kind or metadata.name`, 'is this a Kubernetes manifest?');
      out.push(item);
    }
  }
  return out;
}

/** What the cluster holds of the objects we render or own, projected onto the rendered fields. */
export async function liveCounterparts(cluster: Cluster, rendered: readonly KubeObject[], namespace: string): Promise<KubeObject[]> {
  const byKey = new Map<string, KubeObject>();
  const got = await Promise.all(rendered.map((o) => cluster.get(o.apiVersion, o.kind, o.metadata.name, o.metadata.namespace)));
  got.forEach((live, i) => {
    if (live) byKey.set(`${rendered[i]!.kind}/${live.metadata.namespace ?? ''}/${live.metadata.name}`, projectLive(live, rendered[i]) as KubeObject);
  });
  // Objects we own that the rendering no longer has (upgrade would prune them) show as removed.
  const owned = await Promise.all(RENDERED_KINDS.map((k) => cluster.list(k.apiVersion, k.kind, { labelSelector: OWNED_SELECTOR, namespace: k.namespaced ? namespace : undefined }).catch(() => [] as KubeObject[])));
  for (const o of owned.flat()) {
    const key = `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    if (!byKey.has(key)) byKey.set(key, stripServerFields(o));
  }
  return [...byKey.values()];
}

/** Drop what the server adds (status, managedFields, resourceVersion...) so a diff shows intent. */
export function stripServerFields(o: KubeObject): KubeObject {
  const { status: _status, ...rest } = o;
  const { managedFields: _m, resourceVersion: _r, uid: _u, generation: _g, creationTimestamp: _c, ...meta } = o.metadata;
  return { ...rest, metadata: meta } as KubeObject;
}

/**
 * Secret values replaced by a short digest: a diff still shows that a key changed, never the key
 * material itself (the root CA's private key is in a Secret).
 */
export function hideSecretData(objects: readonly KubeObject[]): KubeObject[] {
  return objects.map((o) => {
    if (o.kind !== 'Secret' || typeof o.data !== 'object' || o.data === null) return o;
    const data = Object.fromEntries(Object.entries(o.data as Record<string, string>).map(([k, v]) => [k, `<hidden, sha256:${createHash('sha256').update(String(v)).digest('hex').slice(0, 12)}>`]));
    return { ...o, data };
  });
}

/**
 * `mesh manifest diff A.yaml B.yaml` or `mesh manifest diff --cluster [-f values]`. Exit code as
 * `diff` and `kubectl diff`: 0 when identical, 1 when they differ.
 */
export async function runManifestDiff(opts: ManifestDiffOptions, ui: Ui, connect?: () => Promise<Cluster>): Promise<number> {
  let before: KubeObject[];
  let after: KubeObject[];
  if (opts.cluster) {
    const values = await loadValues(opts);
    const cluster = connect ? await connect() : await (await import('../cluster/index.js')).connect({ kubeconfig: opts.kubeconfig, context: opts.context });
    const { readRootCa } = await import('./ca.js');
    const ca = await readRootCa(cluster, values.namespace);
    // The Gateway API CRDs (--gateway-api) are not part of the release: upgrade neither renders nor prunes them.
    after = renderManifests(values, loadTemplates(), { ca });
    before = await liveCounterparts(cluster, after, values.namespace);
  } else {
    before = await readObjects(opts.paths[0]!);
    after = await readObjects(opts.paths[1]!);
  }
  const diffs = diffObjects(hideSecretData(before), hideSecretData(after));
  ui.out.write(opts.output === 'table' ? formatDiffs(diffs, ui.color) : renderData(diffDocument(diffs), opts.output));
  if (diffs.length === 0) {
    ui.err.write('no differences\n');
    return ExitCode.Ok;
  }
  const count = (c: string) => diffs.filter((d) => d.change === c).length;
  ui.err.write(`${diffs.length} object(s) differ: ${count('added')} added, ${count('changed')} changed, ${count('removed')} removed\n`);
  return ExitCode.Failed;
}
