import { imageFor, pullSecrets } from './images.js';
import { createHash } from 'node:crypto';
import { CORE_SCHEMA, loadAll } from 'js-yaml';
import { stringify } from 'yaml';
import {
  CONTROLLER_NAME,
  LABEL_MANAGED_BY,
  LABEL_NAME,
  LABEL_PART_OF,
  LABEL_VERSION,
  MANAGED_BY,
  MESH_CONFIG_KEY,
  MESH_CONFIG_NAME,
  MESH_DOMAIN,
  PART_OF,
  ROOT_CA_SECRET,
  TRUST_BUNDLE_CONFIGMAP,
} from '../constants.js';
import type { KubeObject } from '../cluster/types.js';
import { VERSION } from '../version.js';
import { diffFromDefaults, resolveValues, type Values } from './values.js';
import { renderAddons } from './addons.js';

/**
 * Rendering of the control plane: the plain YAML under templates/ is parsed and filled by typed
 * code from the resolved values. Pure (the template texts come in as data, see Templates), and
 * deterministic: the same values and CA material give the same objects, in the same order.
 */

/** Root CA material, PEM. Install reads it from the cluster, generates it, or takes --ca-cert/--ca-key. */
export interface CaMaterial {
  certPem: string;
  keyPem: string;
  /**
   * The trust bundle (mesh-trust-bundle and the webhook's caBundle) when it is more than certPem:
   * during a root replacement, the new root and the old one while it is still valid.
   */
  bundlePem?: string;
}

/** Options of renderManifests. */
export interface RenderOptions {
  /** When given, the root CA Secret and trust bundle are rendered and the webhook gets a caBundle. */
  ca?: CaMaterial;
  /** Version stamped on every object (default: this CLI's version). */
  version?: string;
  /** Profile the values were resolved from, recorded so upgrade can re-resolve (default "default"). */
  profile?: string;
  /** The verified objects of the pinned Gateway API bundle (src/install/gateway-api.ts), for `--gateway-api`: applied with the CRDs. */
  gatewayApi?: readonly KubeObject[];
}

/** Apply stages, in the order install applies them (uninstall goes the other way, webhook first). */
export const STAGES = ['crds', 'namespace', 'rbac', 'config', 'workloads', 'webhook'] as const;
/** One apply stage. */
export type Stage = (typeof STAGES)[number];

/** Kinds that live outside any namespace. */
const CLUSTER_SCOPED = new Set(['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']);

/** Every kind the renderer can emit, with its apiVersion: what upgrade lists to find objects to prune. */
export const RENDERED_KINDS: readonly { apiVersion: string; kind: string; namespaced: boolean }[] = [
  { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', namespaced: false },
  { apiVersion: 'v1', kind: 'Namespace', namespaced: false },
  { apiVersion: 'v1', kind: 'ServiceAccount', namespaced: true },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', namespaced: false },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', namespaced: false },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', namespaced: true },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', namespaced: true },
  { apiVersion: 'v1', kind: 'ConfigMap', namespaced: true },
  { apiVersion: 'v1', kind: 'Secret', namespaced: true },
  { apiVersion: 'apps/v1', kind: 'Deployment', namespaced: true },
  { apiVersion: 'v1', kind: 'Service', namespaced: true },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', namespaced: true },
  { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', namespaced: false },
];

/** The stage an object is applied in. */
export function stageOf(obj: Pick<KubeObject, 'kind'>): Stage {
  switch (obj.kind) {
    case 'CustomResourceDefinition':
      return 'crds';
    case 'Namespace':
      return 'namespace';
    case 'ServiceAccount':
    case 'ClusterRole':
    case 'ClusterRoleBinding':
    case 'Role':
    case 'RoleBinding':
      return 'rbac';
    case 'ConfigMap':
    case 'Secret':
      return 'config';
    // The webhook, and the Gateway API bundle's admission policy: after what they guard.
    case 'MutatingWebhookConfiguration':
    case 'ValidatingAdmissionPolicy':
    case 'ValidatingAdmissionPolicyBinding':
      return 'webhook';
    default:
      return 'workloads';
  }
}

/** True for kinds without a namespace. */
export function isClusterScoped(kind: string): boolean {
  return CLUSTER_SCOPED.has(kind);
}

/** `Kind/name` or `Kind/namespace/name`, as messages and summaries name objects. */
export function objectRef(obj: Pick<KubeObject, 'kind' | 'metadata'>): string {
  return obj.metadata.namespace ? `${obj.kind}/${obj.metadata.namespace}/${obj.metadata.name}` : `${obj.kind}/${obj.metadata.name}`;
}

/** The files under templates/ that renderManifests fills. */
export const TEMPLATE_FILES = ['crds.yaml', 'namespace.yaml', 'serviceaccount.yaml', 'rbac.yaml', 'config.yaml', 'controller.yaml', 'service.yaml', 'pdb.yaml', 'webhook.yaml', 'addons.yaml'] as const;
/** One template file name. */
export type TemplateFile = (typeof TEMPLATE_FILES)[number];
/**
 * The shipped templates as YAML text, by file: the data renderManifests fills. src/install/templates.ts
 * loads them from templates/ (once); tests may pass their own. Must not be altered after first use.
 */
export type Templates = Readonly<Record<TemplateFile, string>>;

/** Parsed templates, per Templates object, so each file is parsed once. */
const parsedCache = new WeakMap<Templates, Map<TemplateFile, KubeObject[]>>();

/** The objects of one template file, as fresh copies the caller may change. */
function templateObjects(t: Templates, file: TemplateFile): KubeObject[] {
  let parsed = parsedCache.get(t);
  if (!parsed) parsedCache.set(t, (parsed = new Map()));
  let docs = parsed.get(file);
  if (!docs) {
    // js-yaml with the YAML 1.2 core schema reads what the `yaml` package read before, about three
    // times faster: the templates are most of install's parsing (the goldens hold the output).
    try {
      docs = loadAll(t[file], undefined, { schema: CORE_SCHEMA }) as KubeObject[];
    } catch (err) {
      throw new Error(`templates/${file}: ${(err as Error).message}`);
    }
    parsed.set(file, docs);
  }
  return structuredClone(docs);
}

/** The one template object of `kind` (and `name`, when a file holds several of a kind). */
function pick(t: Templates, file: TemplateFile, kind: string, name?: string): KubeObject {
  const found = templateObjects(t, file).find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (!found) throw new Error(`templates/${file} has no ${kind}${name ? ` ${name}` : ''}`);
  return found;
}

/** The resolved values as stored in the mesh-config ConfigMap (stable key order: the model's). */
export function valuesYaml(values: Values): string {
  return stringify(values, { lineWidth: 0 });
}

/** Keys of the mesh-config ConfigMap besides MESH_CONFIG_KEY. */
export const CONFIG_KEYS = { version: 'version', profile: 'profile', overrides: 'overrides.yaml', xdsAddress: 'xdsAddress' } as const;

/**
 * The mesh-config data: the full resolved values (what the controller, webhook and inject read),
 * the version, and the profile plus the user's overrides of it (what upgrade re-resolves with a
 * newer CLI's defaults, so an upgrade picks up new default images).
 */
export function configData(values: Values, version: string, profile: string): Record<string, string> {
  return {
    [MESH_CONFIG_KEY]: valuesYaml(values),
    [CONFIG_KEYS.version]: version,
    [CONFIG_KEYS.profile]: profile,
    [CONFIG_KEYS.overrides]: stringify(diffFromDefaults(values, resolveValues({ profile })), { lineWidth: 0 }),
    [CONFIG_KEYS.xdsAddress]: xdsAddress(values),
  };
}

/** Address Envoy sidecars dial for xDS: the TLS port (their bootstrap's xdsAddress is the same). */
export function xdsAddress(values: Values): string {
  return `${CONTROLLER_NAME}.${values.namespace}.svc:${values.controller.xdsTlsPort}`;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  ports?: { name: string; containerPort: number; protocol?: string }[];
  resources?: unknown;
}
interface PodSpec {
  containers: Container[];
  affinity?: unknown;
}
interface DeploymentSpec {
  replicas: number;
  selector: { matchLabels: Record<string, string> };
  template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec };
}
interface ServicePort {
  name: string;
  port: number;
  targetPort: string | number;
}
interface Webhook {
  failurePolicy: string;
  timeoutSeconds: number;
  clientConfig: { service: { name: string; namespace: string; path: string; port: number }; caBundle?: string };
  namespaceSelector: { matchExpressions: { key: string; operator: string; values: string[] }[] };
}

/**
 * Render the control plane for `values`: an ordered list of objects (the order install applies
 * them in, see STAGES). Without `opts.ca` the root CA Secret and trust bundle are left out and the
 * webhook has no caBundle: `mesh install` fills them from the cluster's root (see docs/install.md).
 * Returns fresh objects the caller owns.
 */
export function renderManifests(values: Values, templates: Templates, opts: RenderOptions = {}): KubeObject[] {
  const version = opts.version ?? VERSION;
  const ns = values.namespace;
  const objects: KubeObject[] = [];

  objects.push(...templateObjects(templates, 'crds.yaml'));

  const namespace = pick(templates, 'namespace.yaml', 'Namespace');
  namespace.metadata.name = ns;
  objects.push(namespace);

  const sa = pick(templates, 'serviceaccount.yaml', 'ServiceAccount');
  objects.push(sa);
  for (const o of templateObjects(templates, 'rbac.yaml')) {
    for (const s of (o.subjects as { namespace?: string }[] | undefined) ?? []) s.namespace = ns;
    objects.push(o);
  }

  const config = pick(templates, 'config.yaml', 'ConfigMap', MESH_CONFIG_NAME);
  const vy = valuesYaml(values);
  config.data = configData(values, version, opts.profile ?? 'default');
  objects.push(config);
  if (opts.ca) {
    const bundle = pick(templates, 'config.yaml', 'ConfigMap', TRUST_BUNDLE_CONFIGMAP);
    bundle.data = { 'ca.crt': opts.ca.bundlePem ?? opts.ca.certPem };
    objects.push(bundle);
    const secret = pick(templates, 'config.yaml', 'Secret', ROOT_CA_SECRET);
    secret.data = { 'tls.crt': b64(opts.ca.certPem), 'tls.key': b64(opts.ca.keyPem), 'ca.crt': b64(opts.ca.certPem) };
    objects.push(secret);
  }

  objects.push(renderDeployment(templates, values, version, vy));
  objects.push(renderService(templates, values));
  if (values.controller.podDisruptionBudget) objects.push(pick(templates, 'pdb.yaml', 'PodDisruptionBudget'));
  objects.push(...renderAddons(values, templateObjects(templates, 'addons.yaml')));

  const webhookConfig = pick(templates, 'webhook.yaml', 'MutatingWebhookConfiguration');
  for (const w of webhookConfig.webhooks as Webhook[]) {
    w.failurePolicy = values.webhook.failurePolicy;
    w.timeoutSeconds = values.webhook.timeoutSeconds;
    w.clientConfig.service.namespace = ns;
    if (opts.ca) w.clientConfig.caBundle = b64(opts.ca.bundlePem ?? opts.ca.certPem);
    for (const e of w.namespaceSelector.matchExpressions) {
      if (e.operator === 'NotIn') e.values = ['kube-system', ns].filter((x, i, a) => a.indexOf(x) === i);
    }
  }
  objects.push(webhookConfig);

  for (const o of objects) {
    if (!isClusterScoped(o.kind)) o.metadata.namespace = ns;
    o.metadata.labels = { ...o.metadata.labels, ...meshLabels(version) };
    applyImageSource(o, values);
  }
  if (opts.gatewayApi) {
    // With the CRDs, but not labelled part of the release: upgrade never prunes them and
    // uninstall never deletes them (other gateway controllers may serve them too).
    const at = objects.findIndex((o) => o.kind !== 'CustomResourceDefinition');
    objects.splice(at, 0, ...opts.gatewayApi.map((o) => structuredClone(o)));
  }
  return objects;
}

/** global.registry and global.imagePullSecrets on every pod template we render (control plane and addons alike). */
function applyImageSource(o: KubeObject, values: Values): void {
  const spec = (o.spec as { template?: { spec?: { containers?: { image?: string }[]; initContainers?: { image?: string }[]; imagePullSecrets?: { name: string }[] } } } | undefined)?.template?.spec;
  if (!spec) return;
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) if (c.image) c.image = imageFor(values, c.image);
  const secrets = pullSecrets(values);
  if (secrets.length) spec.imagePullSecrets = secrets;
}

/** The labels every object we create carries (upgrade finds and prunes by them). */
export function meshLabels(version: string = VERSION): Record<string, string> {
  return { [LABEL_PART_OF]: PART_OF, [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_VERSION]: version };
}

/** Label selector matching everything we own. */
export const OWNED_SELECTOR = `${LABEL_PART_OF}=${PART_OF},${LABEL_MANAGED_BY}=${MANAGED_BY}`;

function renderDeployment(templates: Templates, values: Values, version: string, vy: string): KubeObject {
  const c = values.controller;
  const d = pick(templates, 'controller.yaml', 'Deployment');
  const spec = d.spec as DeploymentSpec;
  spec.replicas = c.replicas;
  const tpl = spec.template;
  tpl.metadata.labels = { ...tpl.metadata.labels, [LABEL_PART_OF]: PART_OF, [LABEL_VERSION]: version };
  // The controller reads mesh-config at start; a changed config must roll the pods.
  tpl.metadata.annotations = { ...tpl.metadata.annotations, [`${MESH_DOMAIN}/config-hash`]: createHash('sha256').update(vy).digest('hex').slice(0, 16) };
  const container = tpl.spec.containers[0]!;
  container.image = c.image;
  container.args = [
    '--source', 'kubernetes',
    ...(c.plaintextXds ? ['--plaintext-xds', '--xds-port', String(c.xdsPort)] : []),
    '--xds-tls-port', String(c.xdsTlsPort),
    '--webhook-port', String(c.webhookPort),
    '--metrics-port', String(c.metricsPort),
    '--trust-domain', values.trustDomain,
    '--default-mtls', values.mtls.mode,
  ];
  container.env = [
    ...(container.env ?? []),
    { name: 'MESH_LOG_LEVEL', value: c.logLevel },
    { name: 'MESH_NAMESPACE', value: values.namespace },
  ];
  const port: Record<string, number> = { 'grpc-xds': c.xdsPort, 'grpc-xds-tls': c.xdsTlsPort, 'https-webhook': c.webhookPort, 'http-metrics': c.metricsPort };
  // No plaintext port, no container port for it: nothing should be pointed at it.
  if (!c.plaintextXds && container.ports) container.ports = container.ports.filter((p) => p.name !== 'grpc-xds');
  for (const p of container.ports ?? []) p.containerPort = port[p.name] ?? p.containerPort;
  container.resources = structuredClone(c.resources);
  if (c.antiAffinity) {
    tpl.spec.affinity = {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { [LABEL_NAME]: CONTROLLER_NAME } } } },
        ],
      },
    };
  }
  return d;
}

function renderService(templates: Templates, values: Values): KubeObject {
  const s = pick(templates, 'service.yaml', 'Service');
  const spec = s.spec as { ports: ServicePort[] };
  if (!values.controller.plaintextXds) spec.ports = spec.ports.filter((p) => p.name !== 'grpc-xds');
  for (const p of spec.ports) {
    if (p.name === 'grpc-xds') p.port = values.controller.xdsPort;
    if (p.name === 'grpc-xds-tls') p.port = values.controller.xdsTlsPort;
    if (p.name === 'http-metrics') p.port = values.controller.metricsPort;
  }
  return s;
}

/** Serialise objects as one multi-document YAML stream; same objects, same bytes. */
export function toYamlStream(objects: readonly KubeObject[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n');
}
