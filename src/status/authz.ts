import { DEFAULT_NAMESPACE, DEFAULT_TRUST_DOMAIN } from '../constants.js';
import type { Source } from '../cluster/source.js';
import type { KubeObject } from '../cluster/types.js';
import { ExitCode, MeshError, usageError } from '../errors.js';
import {
  buildModel,
  withTemplatePods,
  inboundDecision,
  inboundPortAuthz,
  isHttp,
  requestDependentRules,
  policiesFor,
  type AuthzDecision,
  type AuthzPolicy,
  type MeshModel,
  type MtlsMode,
  type Workload,
} from '../model/index.js';
import { renderData, renderTable, type Column } from '../ui/output.js';
import type { Ui } from '../ui/context.js';
import { KINDS, parseResourceRef, podsOf, type ResourceKind } from './workloads.js';
import { labelSelectorMatches } from '../util/labels.js';

// `mesh authz check` and `mesh authz list`: who may call whom, answered by the same description of
// authorization the xDS translation renders as Envoy RBAC (src/model/authz.ts, inbound-authz.ts).
// Objects come from one Source (files with -f, else the cluster); workloads named by a Deployment,
// StatefulSet or DaemonSet without pods in the input stand in through their pod template.

/** A caller or callee as the user named it. */
export type PartyRef =
  | { kind: 'identity'; id: string }
  | { kind: 'unauthenticated' }
  | { kind: 'object'; type: ResourceKind | 'sa'; name: string; namespace?: string };

const SPIFFE = /^spiffe:\/\/([a-z0-9._-]+)\/ns\/([^/]+)\/sa\/([^/]+)$/;

/**
 * Parse FROM or TO: a SPIFFE ID (`spiffe://TD/ns/NS/sa/SA`), `sa/NAME` (`serviceaccount/NAME`),
 * kubectl's TYPE/NAME (deploy/, sts/, ds/, pod/, svc/), a bare pod NAME, or (FROM only)
 * `unauthenticated` for a caller without a client certificate. Usage error (exit 2) otherwise.
 */
export function parseParty(arg: string, which: 'FROM' | 'TO'): PartyRef {
  if (arg.startsWith('spiffe://')) {
    if (!SPIFFE.test(arg)) throw usageError(`${which} "${arg}" is not a mesh SPIFFE ID`, 'write spiffe://TRUST_DOMAIN/ns/NAMESPACE/sa/SERVICEACCOUNT');
    return { kind: 'identity', id: arg };
  }
  if (arg === 'unauthenticated') {
    if (which === 'TO') throw usageError('TO cannot be "unauthenticated"', 'name the workload called: deploy/NAME, pod/NAME, sa/NAME, svc/NAME or a SPIFFE ID');
    return { kind: 'unauthenticated' };
  }
  const [type, name, extra] = arg.split('/');
  if (name !== undefined && extra === undefined && (type === 'sa' || type === 'serviceaccount' || type === 'serviceaccounts')) {
    if (!name) throw usageError(`${which} "${arg}" names no service account`, 'e.g. sa/web');
    return { kind: 'object', type: 'sa', name };
  }
  if (!arg.includes('/')) return { kind: 'object', type: 'pod', name: arg };
  const ref = parseResourceRef(arg, which);
  if (!ref.name || ref.kind === 'ns' || (which === 'FROM' && ref.kind === 'svc')) {
    throw usageError(`${which} "${arg}" must name a workload`, `use deploy/NAME, sts/NAME, ds/NAME, pod/NAME, sa/NAME${which === 'TO' ? ', svc/NAME' : ''} or a SPIFFE ID${which === 'FROM' ? ' (a Service makes no calls)' : ''}`);
  }
  return { kind: 'object', type: ref.kind, name: ref.name };
}

/** Validated options of `mesh authz check`. */
export interface AuthzCheckOptions {
  from: PartyRef;
  to: PartyRef;
  /** -n: namespace of FROM and TO objects (default: the context's, else "default"). */
  namespace?: string;
  /** Namespace of FROM when it differs from TO's. */
  fromNamespace?: string;
  port?: number;
  method?: string;
  path?: string;
  files?: string[];
  /** Offline only: the mesh-wide `authorization.defaultDeny` value (live, it is read from mesh-config). */
  defaultDeny?: boolean;
  trustDomain?: string;
  meshNamespace: string;
  output: 'table' | 'json' | 'yaml';
}

/** Validate `mesh authz check` flags (pure; usage errors exit 2). */
export function validateAuthzCheckOptions(raw: {
  from?: string; to?: string; namespace?: string; fromNamespace?: string; port?: string; method?: string; path?: string;
  files?: string[]; defaultDeny?: boolean; trustDomain?: string; meshNamespace?: string; output: 'table' | 'json' | 'yaml';
}): AuthzCheckOptions {
  if (!raw.from || !raw.to) throw usageError('name the caller and the callee: mesh authz check FROM TO', 'e.g. mesh authz check deploy/web deploy/api -n shop --port 8080 --path /orders');
  const opts: AuthzCheckOptions = { from: parseParty(raw.from, 'FROM'), to: parseParty(raw.to, 'TO'), meshNamespace: raw.meshNamespace ?? DEFAULT_NAMESPACE, output: raw.output };
  if (raw.port !== undefined) {
    const n = Number(raw.port);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw usageError(`--port ${raw.port}: not a port number`, 'give 1-65535: a port of the Service or of the pod (e.g. --port 8080)');
    opts.port = n;
  }
  if (raw.method !== undefined) {
    if (!/^[A-Za-z]+$/.test(raw.method)) throw usageError(`--method ${raw.method}: not an HTTP method`, 'e.g. --method GET');
    opts.method = raw.method.toUpperCase();
  }
  if (raw.path !== undefined) {
    if (!raw.path.startsWith('/')) throw usageError(`--path ${raw.path}: a request path starts with /`, 'e.g. --path /orders/1');
    opts.path = raw.path;
  }
  if (raw.defaultDeny && !raw.files?.length) throw usageError('--default-deny only applies with -f', 'live, the mesh-wide default is read from the installed values (authorization.defaultDeny)');
  if (raw.namespace) opts.namespace = raw.namespace;
  if (raw.fromNamespace) opts.fromNamespace = raw.fromNamespace;
  if (raw.files?.length) opts.files = raw.files;
  if (raw.defaultDeny) opts.defaultDeny = true;
  if (raw.trustDomain) opts.trustDomain = raw.trustDomain;
  return opts;
}

/** What authz reads: the model's kinds plus the workload kinds FROM and TO may name. */
export const AUTHZ_KINDS = [
  { apiVersion: 'v1', kind: 'Namespace' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'v1', kind: 'Pod' },
  { apiVersion: 'v1', kind: 'ServiceAccount' },
  { apiVersion: 'mesh.dev/v1alpha1', kind: 'AuthorizationPolicy' },
  KINDS.deploy,
  KINDS.sts,
  KINDS.ds,
] as const;

/** The model and objects one authz command works on. */
export interface AuthzInput {
  model: MeshModel;
  objects: KubeObject[];
  /** Namespace of objects without one (files): -n, else the context's, else default. */
  namespace: string;
}

/** Build the authz input from objects (pure): namespaces filled in, template pods added, the model built with the mesh-wide values. */
export function authzInput(objects: readonly KubeObject[], namespace: string, opts: { trustDomain?: string; defaultDeny?: boolean; defaultMtls?: MtlsMode }): AuthzInput {
  const filled = objects.map((o) => (o.metadata.namespace === undefined && o.kind !== 'Namespace' ? { ...o, metadata: { ...o.metadata, namespace } } : o));
  const all = withTemplatePods(filled);
  const model = buildModel(all, { trustDomain: opts.trustDomain ?? DEFAULT_TRUST_DOMAIN, defaultDeny: opts.defaultDeny === true, ...(opts.defaultMtls ? { defaultMtls: opts.defaultMtls } : {}) });
  return { model, objects: all, namespace };
}

/** Workloads (pods in the model) a callee reference stands for; a usage error when it names nothing. */
export function resolveWorkloads(input: AuthzInput, ref: PartyRef, namespace: string): Workload[] {
  const { model, objects } = input;
  if (ref.kind === 'unauthenticated') return [];
  if (ref.kind === 'identity') {
    const ws = model.workloads.filter((w) => w.identity === ref.id);
    if (!ws.length) throw new MeshError(`no workload runs as ${ref.id}`, { hint: 'check the trust domain, namespace and service account (mesh authz list shows identities)', exitCode: ExitCode.Usage });
    return ws;
  }
  const ns = ref.namespace ?? namespace;
  let ws: Workload[];
  if (ref.type === 'sa') ws = model.workloads.filter((w) => w.namespace === ns && w.serviceAccount === ref.name);
  else if (ref.type === 'pod') ws = model.workloads.filter((w) => w.namespace === ns && w.name === ref.name);
  else {
    const { kind } = KINDS[ref.type];
    const obj = objects.find((o) => o.kind === kind && o.metadata.name === ref.name && o.metadata.namespace === ns);
    if (!obj) throw new MeshError(`${kind} ${ns}/${ref.name} not found`, { hint: `check the name and -n (kubectl get ${ref.type} -n ${ns})`, exitCode: ExitCode.Usage });
    const pods = new Set(podsOf(obj, objects.filter((o) => o.kind === 'Pod')).map((p) => p.metadata.name));
    ws = model.workloads.filter((w) => w.namespace === ns && pods.has(w.name));
  }
  if (!ws.length) throw new MeshError(`${ref.type}/${ref.name} in namespace ${ns} has no pod`, { hint: 'name a workload with pods (or, with -f, a Deployment, StatefulSet or DaemonSet whose template stands in)', exitCode: ExitCode.Usage });
  return ws;
}

/** The SPIFFE ID a caller presents (undefined: no certificate) and how to show it. */
export function callerIdentity(input: AuthzInput, ref: PartyRef, namespace: string): { principal?: string; label: string } {
  if (ref.kind === 'unauthenticated') return { label: 'unauthenticated' };
  if (ref.kind === 'identity') return { principal: ref.id, label: ref.id };
  const ns = ref.namespace ?? namespace;
  if (ref.type === 'sa') return { principal: `spiffe://${input.model.trustDomain}/ns/${ns}/sa/${ref.name}`, label: `sa/${ref.name}` };
  const ids = [...new Set(resolveWorkloads(input, ref, namespace).map((w) => w.identity))];
  if (ids.length > 1) throw new MeshError(`${ref.type}/${ref.name} runs as several identities (${ids.join(', ')})`, { hint: 'name one pod or service account (sa/NAME)', exitCode: ExitCode.Usage });
  return { principal: ids[0]!, label: `${ref.type}/${ref.name}` };
}

/** One answer of `mesh authz check`: a callee pod and port. */
export interface AuthzCheckResult {
  from: string;
  /** The caller's SPIFFE ID, or null without a client certificate. */
  principal: string | null;
  to: string;
  namespace: string;
  port: number;
  protocol: string;
  /** The request evaluated on HTTP ports (method and path), null on opaque ports. */
  request: { method: string; path: string } | null;
  decision: 'ALLOW' | 'DENY';
  by: AuthzDecision['by'];
  policy: string | null;
  rule: number | null;
  reason: string;
}

/** The workload port a `--port` means: one of the pod's ports, else a port of a Service selecting it (its targetPort). */
function podPort(model: MeshModel, w: Workload, port: number): number {
  if (w.ports.some((p) => p.port === port)) return port;
  for (const s of model.services.filter((x) => x.namespace === w.namespace && x.selector && labelSelectorMatches({ matchLabels: x.selector }, w.labels))) {
    const sp = s.ports.find((p) => p.port === port);
    if (!sp) continue;
    if (typeof sp.targetPort === 'number') return sp.targetPort;
    const mine = w.ports.filter((p) => p.service === s.name);
    if (mine.length === 1) return mine[0]!.port;
  }
  return port;
}

/** The answers for every callee pod and port (all ports of the pod without --port). Pure. */
export function checkAuthz(input: AuthzInput, opts: AuthzCheckOptions): AuthzCheckResult[] {
  const ns = opts.namespace ?? input.namespace;
  const caller = callerIdentity(input, opts.from, opts.fromNamespace ?? ns);
  const targets = resolveWorkloads(input, opts.to, ns);
  const out: AuthzCheckResult[] = [];
  for (const w of targets) {
    const ports = opts.port !== undefined ? [podPort(input.model, w, opts.port)] : w.ports.map((p) => p.port);
    if (!ports.length) throw new MeshError(`${w.namespace}/${w.name} has no port a Service exposes`, { hint: 'give --port (the port the caller connects to)', exitCode: ExitCode.Usage });
    // The caller's sidecar originates mTLS unless the callee's namespace disables it (as the translation does).
    const tls = input.model.namespaces.find((n) => n.name === w.namespace)?.mtls !== 'DISABLE';
    const principal = tls ? caller.principal : undefined;
    for (const port of [...new Set(ports)]) {
      const p = w.ports.find((x) => x.port === port);
      const http = p !== undefined && isHttp(p.protocol);
      const request = http ? { method: opts.method ?? 'GET', path: opts.path ?? '/' } : null;
      const d = inboundDecision(input.model, w, { port, ...(principal ? { principal } : {}), ...(request ?? {}) });
      out.push({
        from: caller.label, principal: principal ?? null, to: w.name, namespace: w.namespace, port, protocol: p?.protocol ?? 'tcp (no Service port)', request,
        decision: d.allowed ? 'ALLOW' : 'DENY', by: d.by, policy: d.policy ?? null, rule: d.rule ?? null, reason: d.reason,
      });
    }
  }
  return out;
}

/** A policy as `mesh authz list` shows it. */
export interface PolicyView {
  policy: string;
  action: 'ALLOW' | 'DENY';
  rules: string[];
}

/** One rule of a policy in words: `from ... to ...`. */
export function ruleText(r: AuthzPolicy['rules'][number]): string {
  const from = r.from.length ? r.from.map((f) => [...f.principals, ...f.namespaces.map((n) => `ns:${n}`)].join('|') || '(nobody)').join(' or ') : 'anyone';
  const to = r.to.length ? r.to.map((t) => [t.ports.length ? `port ${t.ports.join('|')}` : '', t.methods.join('|'), t.paths.join('|')].filter(Boolean).join(' ') || 'anything').join(' or ') : 'anything';
  return `from ${from} to ${to}`;
}

/** `mesh authz list`: what may call a workload (per known caller identity and port) and what it may call. */
export interface AuthzListReport {
  workload: string;
  namespace: string;
  identity: string;
  /** The namespace denies by default (label or mesh-wide value). */
  defaultDeny: boolean;
  policies: PolicyView[];
  /** Every identity in the input (and unauthenticated) against each port of the workload. */
  inbound: AuthzListRow[];
  /** Each other workload's ports, called as this workload's identity. */
  outbound: AuthzListRow[];
}

/**
 * A caller and port of `mesh authz list`: the decision for any request (a GET / on HTTP ports),
 * or SOME when rules on methods or paths make it depend on the request (`requestRules` names them).
 */
export interface AuthzListRow extends Omit<AuthzCheckResult, 'decision'> {
  decision: 'ALLOW' | 'DENY' | 'SOME';
  requestRules: string[];
}

/** Build the `mesh authz list` report (pure). Requests are a GET / on HTTP ports: rules on methods and paths show with `mesh authz check --path --method`. */
export function listAuthz(input: AuthzInput, ref: PartyRef, namespace: string): AuthzListReport {
  const [w] = resolveWorkloads(input, ref, namespace);
  if (!w) throw usageError('name a workload');
  const { model } = input;
  const policies = policiesFor(model, w).map((p) => ({ policy: `${p.namespace}/${p.name}`, action: p.action, rules: p.rules.map(ruleText) }));
  const identities = [...new Set(model.workloads.map((x) => x.identity))].sort();
  const ask = (callerId: string | undefined, label: string, target: Workload): AuthzListRow[] => target.ports.map((p) => {
    const http = isHttp(p.protocol);
    const tls = model.namespaces.find((n) => n.name === target.namespace)?.mtls !== 'DISABLE';
    const principal = tls ? callerId : undefined;
    const request = http ? { method: 'GET', path: '/' } : null;
    const req = { port: p.port, ...(principal ? { principal } : {}), ...(request ?? {}) };
    const d = inboundDecision(model, target, req);
    // Only rules that could turn this answer around count: a DENY on some requests of an allowed
    // caller; an ALLOW on some requests of a caller denied by default; the deciding rule itself.
    const rules = d.by === 'mtls' ? [] : requestDependentRules(inboundPortAuthz(model, target, p.port), req);
    const decidingIsDependent = rules.some((r) => r.policy === d.policy && r.rule === d.rule);
    const dependent = rules
      .filter((r) => decidingIsDependent || (d.allowed ? r.action === 'DENY' : d.by === 'default' && r.action === 'ALLOW'))
      .map((r) => `${r.policy} rule ${r.rule}`);
    const row: AuthzListRow = { from: label, principal: principal ?? null, to: target.name, namespace: target.namespace, port: p.port, protocol: p.protocol, request, decision: d.allowed ? 'ALLOW' : 'DENY', by: d.by, policy: d.policy ?? null, rule: d.rule ?? null, reason: d.reason, requestRules: dependent };
    if (dependent.length) {
      row.decision = 'SOME';
      row.reason = `depends on the method or path (${dependent.join(', ')}; check one with --path/--method); GET /: ${d.allowed ? 'allowed' : 'denied'}`;
    }
    return row;
  });
  const inbound = [...identities.map((id) => ({ id, label: id })), { id: undefined, label: 'unauthenticated' }].flatMap(({ id, label }) => ask(id, label, w));
  const outbound = model.workloads.filter((x) => x !== w && x.ports.length).flatMap((x) => ask(w.identity, w.identity, x));
  return { workload: w.name, namespace: w.namespace, identity: w.identity, defaultDeny: model.namespaces.find((n) => n.name === w.namespace)?.defaultDeny === true, policies, inbound, outbound };
}

/** What the installed values (mesh-config) say that authorization depends on. */
export interface InstalledAuthzValues {
  trustDomain?: string;
  defaultDeny?: boolean;
  defaultMtls?: MtlsMode;
}

/** Read the input of an authz command: -f files (FilesSource) or the live cluster (its source and the installed values). */
export async function loadAuthzInput(source: Source, opts: { namespace: string; trustDomain?: string; defaultDeny?: boolean; values?: () => Promise<InstalledAuthzValues> }): Promise<AuthzInput> {
  const objects = (await source.list({ kinds: AUTHZ_KINDS })).map((o) => o.object);
  const v = opts.values ? await opts.values() : {};
  return authzInput(objects, opts.namespace, { trustDomain: opts.trustDomain ?? v.trustDomain, defaultDeny: opts.defaultDeny ?? v.defaultDeny, ...(v.defaultMtls ? { defaultMtls: v.defaultMtls } : {}) });
}

type Row = AuthzCheckResult | AuthzListRow;
const CHECK_COLUMNS: Column<Row>[] = [
  { header: 'FROM', value: (r) => r.from },
  { header: 'TO', value: (r) => `${r.to}.${r.namespace}:${r.port}` },
  { header: 'REQUEST', value: (r) => (r.request ? `${r.request.method} ${r.request.path}` : 'tcp') },
  { header: 'DECISION', value: (r) => r.decision },
  { header: 'BY', value: (r) => (r.decision === 'SOME' ? 'request' : r.policy ? `${r.policy} rule ${r.rule}` : r.by) },
  { header: 'REASON', value: (r) => r.reason },
];

/** Print `mesh authz check` results; exit 0 when every answer is ALLOW, 1 when any is DENY (as `kubectl auth can-i`). */
export function printCheck(results: AuthzCheckResult[], output: 'table' | 'json' | 'yaml', ui: Ui): number {
  if (output === 'table') {
    ui.out.write(renderTable(results, CHECK_COLUMNS));
  } else {
    ui.out.write(renderData({ allowed: results.every((r) => r.decision === 'ALLOW'), results }, output));
  }
  return results.every((r) => r.decision === 'ALLOW') ? ExitCode.Ok : ExitCode.Failed;
}

/** Print `mesh authz list`. */
export function printList(report: AuthzListReport, output: 'table' | 'json' | 'yaml', ui: Ui): number {
  if (output !== 'table') {
    ui.out.write(renderData(report, output));
    return ExitCode.Ok;
  }
  const lines = [
    `${report.namespace}/${report.workload} runs as ${report.identity}`,
    `default: ${report.defaultDeny ? 'deny (namespace denies by default)' : report.policies.some((p) => p.action === 'ALLOW') ? 'deny (ALLOW policies apply: only what they allow)' : 'allow (no ALLOW policy applies)'}`,
    '',
    'POLICIES',
    ...(report.policies.length ? report.policies.flatMap((p) => [`  ${p.action} ${p.policy}`, ...(p.rules.length ? p.rules.map((r, i) => `    rule ${i}: ${r}`) : ['    (no rules: matches nothing)'])]) : ['  (none)']),
    '',
    'MAY BE CALLED BY',
  ];
  ui.out.write(lines.join('\n') + '\n');
  ui.out.write(renderTable(report.inbound, CHECK_COLUMNS.filter((c) => c.header !== 'REQUEST')));
  ui.out.write('\nMAY CALL\n');
  ui.out.write(renderTable(report.outbound, CHECK_COLUMNS.filter((c) => c.header !== 'FROM' && c.header !== 'REQUEST'), { emptyMessage: 'no other workload with a Service port in the input' }));
  return ExitCode.Ok;
}
