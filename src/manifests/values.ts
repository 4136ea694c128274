import { tryParseDuration } from '../duration.js';
import { DEFAULT_NAMESPACE, DEFAULT_TRUST_DOMAIN } from '../constants.js';
import { inputError } from '../errors.js';
import { isDns1123Label } from '../names.js';
import { checkTrustDomain } from '../pki/spiffe.js';
import { closest } from '../suggest.js';
import { VERSION } from '../version.js';
import type { AccessLogConfig, MeshTelemetry, TracingConfig } from '../model/types.js';
import type { ModelOptions } from '../model/index.js';
import { isObject } from '../util/object.js';
import { parseHostPort } from '../util/host-port.js';
import { ADDON_IMAGES, imageRef } from './images.js';

/**
 * The typed values model shared by `mesh install`, `mesh manifest`, `mesh inject` and the webhook.
 * Defaults live in DEFAULTS; profiles override some of them; users override with -f and --set.
 * Every key is documented in docs/values.md.
 */
export interface Resources {
  requests: { cpu: string; memory: string };
  limits: { cpu: string; memory: string };
}

export type MtlsMode = 'STRICT' | 'PERMISSIVE';
/** values `outboundTrafficPolicy`: what sidecars do with calls to unregistered destinations. */
export type OutboundTrafficPolicy = 'allow-any' | 'registry-only';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type NativeSidecar = 'auto' | 'on' | 'off';
/** How the Envoy sidecar speaks ADS: state of the world (`sotw`, api_type GRPC) or incremental (`delta`, DELTA_GRPC). */
export type XdsMode = 'sotw' | 'delta';
/** Envoy tracer the sidecars report spans to: OpenTelemetry (OTLP/gRPC, W3C traceparent) or Zipkin (HTTP JSON v2, B3). */
export type TracingProvider = TracingConfig['provider'];
/** Format of the sidecars' stdout access log. */
export type AccessLogFormat = AccessLogConfig['format'];
export type { CustomTag } from '../model/types.js';

export interface Values {
  /** Settings every rendered pod and the injected sidecar share (air-gapped installs: docs/install.md#air-gapped). */
  global: {
    /** Registry (host[/path]) every mesh image is pulled from instead of its own; '' = the images' own registries. */
    registry: string;
    /** Comma-separated Secret names added as imagePullSecrets to every pod mesh renders or injects; '' = none. */
    imagePullSecrets: string;
  };
  /** Namespace the control plane runs in. */
  namespace: string;
  /** SPIFFE trust domain: identities are spiffe://TRUST_DOMAIN/ns/NS/sa/SA. */
  trustDomain: string;
  /** Mesh-wide default for inbound mTLS; namespaces and workloads may override. */
  mtls: { mode: MtlsMode };
  authorization: {
    /**
     * Deny every call no ALLOW AuthorizationPolicy allows, in every namespace without the
     * `mesh.dev/default-deny` label (docs/authz.md). Off by default: no policy allows everything.
     */
    defaultDeny: boolean;
  };
  /**
   * Where sidecars send calls to destinations the mesh does not know: `allow-any` passes them
   * through; `registry-only` refuses them (BlackHoleCluster) unless an ExternalService registers
   * the host (docs/egress.md).
   */
  outboundTrafficPolicy: OutboundTrafficPolicy;
  controller: {
    image: string;
    replicas: number;
    logLevel: LogLevel;
    resources: Resources;
    /** Create a PodDisruptionBudget (minAvailable 1). */
    podDisruptionBudget: boolean;
    /** Spread replicas across nodes (preferred pod anti-affinity). */
    antiAffinity: boolean;
    /**
     * Serve ADS without TLS on xdsPort (proxyless gRPC clients, whose bootstrap uses insecure
     * channel credentials). Off by default: trusted networks only, as anyone reaching the port
     * gets the config of any namespace it names.
     */
    plaintextXds: boolean;
    /** Plaintext ADS port (with plaintextXds). */
    xdsPort: number;
    /** TLS gRPC: ADS and the CA service (Envoy sidecars; ServiceAccount tokens never travel in clear). */
    xdsTlsPort: number;
    webhookPort: number;
    metricsPort: number;
  };
  proxy: {
    image: string;
    logLevel: LogLevel;
    resources: Resources;
    /** UID the proxy runs as; its own traffic is excluded from redirection by this UID. */
    uid: number;
    adminPort: number;
    statsPort: number;
    readinessPort: number;
    inboundPort: number;
    outboundPort: number;
    /** Start the app container only once the proxy is ready. */
    holdApplicationUntilProxyStarts: boolean;
    /** Run the proxy as a native sidecar (init container, restartPolicy Always): auto = when Kubernetes >= 1.29. */
    nativeSidecar: NativeSidecar;
    /** ADS variant of the sidecar's bootstrap: sotw (default) or delta (incremental xDS). */
    xdsMode: XdsMode;
    /** How long the proxy drains inbound on termination before it may stop (Go duration; whole seconds). */
    drainDuration: string;
  };
  proxyInit: {
    image: string;
    resources: Resources;
  };
  webhook: {
    /** Fail: pods are not created while the webhook is down (no unmeshed pods); Ignore: they start without a sidecar. */
    failurePolicy: 'Fail' | 'Ignore';
    timeoutSeconds: number;
  };
  ca: {
    /** Lifetime of workload certificates (Go duration: 24h, 90m). */
    workloadCertTTL: string;
    /** Lifetime of a root generated at install. */
    rootCertTTL: string;
  };
  /** Distributed tracing of every sidecar HTTP connection manager (docs/observability.md). */
  tracing: TracingConfig;
  /** Envoy access logs of every sidecar listener; off by default for the data-path cost (docs/observability.md). */
  accessLog: AccessLogConfig;
  /** The observability addons (`mesh install --addons prometheus,grafana,jaeger`, docs/observability.md). */
  addons: {
    /** Prometheus scraping sidecars, gateways and the control plane. */
    prometheus: Addon;
    /** Grafana with the Prometheus datasource and the mesh dashboards. */
    grafana: Addon;
    /** Jaeger all-in-one (in memory), receiving OTLP and Zipkin spans. */
    jaeger: Addon;
  };
  metrics: {
    /**
     * A Prometheus the CLI reads (stat, route gates) when no --prometheus-url is given, e.g. your
     * own (https://prometheus.example.com). Empty: read the proxies directly.
     */
    prometheusUrl: string;
  };
}

/** One addon's values. */
export interface Addon {
  enabled: boolean;
  image: string;
  resources: Resources;
}

const res = (cpu: string, memory: string, limCpu: string, limMemory: string): Resources => ({
  requests: { cpu, memory },
  limits: { cpu: limCpu, memory: limMemory },
});

/** The defaults (the `default` profile). Never mutate: resolveValues returns copies. */
export const DEFAULTS: Values = Object.freeze({
  global: { registry: '', imagePullSecrets: '' },
  namespace: DEFAULT_NAMESPACE,
  trustDomain: DEFAULT_TRUST_DOMAIN,
  mtls: { mode: 'STRICT' },
  authorization: { defaultDeny: false },
  outboundTrafficPolicy: 'allow-any',
  controller: {
    image: `ghcr.io/mesh-dev/mesh:${VERSION}`,
    replicas: 1,
    logLevel: 'info',
    resources: res('100m', '128Mi', '1', '512Mi'),
    podDisruptionBudget: false,
    antiAffinity: false,
    plaintextXds: false,
    xdsPort: 15010,
    xdsTlsPort: 15012,
    webhookPort: 15017,
    metricsPort: 15014,
  },
  proxy: {
    image: 'envoyproxy/envoy:v1.32.3',
    logLevel: 'warn',
    resources: res('50m', '64Mi', '1', '256Mi'),
    uid: 1337,
    adminPort: 15000,
    statsPort: 15090,
    readinessPort: 15021,
    inboundPort: 15006,
    outboundPort: 15001,
    holdApplicationUntilProxyStarts: true,
    nativeSidecar: 'auto',
    xdsMode: 'sotw',
    drainDuration: '5s',
  },
  proxyInit: {
    image: `ghcr.io/mesh-dev/mesh:${VERSION}`,
    resources: res('10m', '16Mi', '100m', '64Mi'),
  },
  webhook: { failurePolicy: 'Fail', timeoutSeconds: 10 },
  ca: { workloadCertTTL: '24h', rootCertTTL: '87600h' },
  tracing: { enabled: false, sampling: 1, provider: 'opentelemetry', endpoint: 'jaeger-collector.mesh-system.svc:4317', customTags: {} },
  accessLog: { enabled: false, format: 'text' },
  addons: {
    prometheus: { enabled: false, image: imageRef(ADDON_IMAGES.prometheus), resources: res('200m', '512Mi', '1', '2Gi') },
    grafana: { enabled: false, image: imageRef(ADDON_IMAGES.grafana), resources: res('50m', '128Mi', '500m', '512Mi') },
    jaeger: { enabled: false, image: imageRef(ADDON_IMAGES.jaeger), resources: res('100m', '256Mi', '1', '1Gi') },
  },
  metrics: { prometheusUrl: '' },
} satisfies Values) as Values;

/** A deep-partial of Values, as profiles and user files give them. */
export type ValuesOverride = { [K in keyof Values]?: Values[K] extends object ? DeepPartial<Values[K]> : Values[K] };
type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

export interface Profile {
  name: string;
  description: string;
  values: ValuesOverride;
}

/** Built-in profiles, in the order `mesh profile list` shows them. */
export const PROFILES: readonly Profile[] = [
  { name: 'default', description: 'Production defaults: one controller replica, STRICT mTLS, webhook fails closed', values: {} },
  {
    name: 'minimal',
    description: 'Smallest footprint for small or test clusters: lower resource requests, webhook fails open',
    values: {
      controller: { resources: res('50m', '64Mi', '500m', '256Mi') },
      proxy: { resources: res('10m', '32Mi', '500m', '128Mi') },
      webhook: { failurePolicy: 'Ignore' },
    },
  },
  {
    name: 'demo',
    description: 'For trying the mesh: verbose logs, PERMISSIVE mTLS so unmeshed clients still connect',
    values: { mtls: { mode: 'PERMISSIVE' }, controller: { logLevel: 'debug' }, proxy: { logLevel: 'debug' }, webhook: { failurePolicy: 'Ignore' } },
  },
  {
    name: 'ha',
    description: 'High availability: 3 controller replicas, PodDisruptionBudget, spread across nodes',
    values: { controller: { replicas: 3, podDisruptionBudget: true, antiAffinity: true, resources: res('500m', '512Mi', '2', '1Gi') } },
  },
];

/** Keys whose values are one of a fixed set. */
const ENUMS: Record<string, readonly string[]> = {
  'mtls.mode': ['STRICT', 'PERMISSIVE'],
  outboundTrafficPolicy: ['allow-any', 'registry-only'],
  'controller.logLevel': ['debug', 'info', 'warn', 'error'],
  'proxy.logLevel': ['debug', 'info', 'warn', 'error'],
  'proxy.nativeSidecar': ['auto', 'on', 'off'],
  'proxy.xdsMode': ['sotw', 'delta'],
  'webhook.failurePolicy': ['Fail', 'Ignore'],
  'tracing.provider': ['opentelemetry', 'zipkin'],
  'accessLog.format': ['text', 'json'],
};

/** Keys whose value is a map of user-chosen names, checked as a whole by their own function. */
const MAP_KEYS: Record<string, (value: unknown) => string | undefined> = { 'tracing.customTags': checkCustomTags };
/** Number keys that take fractions. */
const PERCENT_KEYS = new Set(['tracing.sampling']);
const HOST_PORT_KEYS = new Set(['tracing.endpoint']);
/** An HTTP header name (RFC 9110 token), as Envoy's HTTP_HEADER_NAME rule accepts. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TAG_NAME = /^[A-Za-z0-9_.\-/]+$/;

function checkCustomTags(value: unknown): string | undefined {
  if (!isObject(value)) return `must be a mapping of tag name to {literal: VALUE}, {header: NAME, default: VALUE} or {environment: NAME, default: VALUE} (got ${JSON.stringify(value)})`;
  for (const [tag, spec] of Object.entries(value)) {
    if (!TAG_NAME.test(tag)) return `has a tag name "${tag}" that is not letters, digits, "_", ".", "-" or "/"`;
    const kinds = isObject(spec) ? ['literal', 'header', 'environment'].filter((k) => spec[k] !== undefined) : [];
    if (!isObject(spec) || kinds.length !== 1) return `tag "${tag}" must have exactly one of literal, header or environment (got ${JSON.stringify(spec)})`;
    const kind = kinds[0] as 'literal' | 'header' | 'environment';
    const extra = Object.keys(spec).filter((k) => k !== kind && !(k === 'default' && kind !== 'literal'));
    if (extra.length) return `tag "${tag}" has unknown key "${extra[0]}" (${kind} takes ${kind === 'literal' ? 'nothing else' : 'only default'})`;
    const v = spec[kind];
    if (typeof v !== 'string' || v === '') return `tag "${tag}": ${kind} must be a non-empty string (got ${JSON.stringify(v)})`;
    if (kind === 'header' && !HEADER_NAME.test(v)) return `tag "${tag}": header "${v}" is not an HTTP header name`;
    if (kind === 'environment' && !ENV_NAME.test(v)) return `tag "${tag}": environment "${v}" is not an environment variable name`;
    if (spec.default !== undefined && typeof spec.default !== 'string') return `tag "${tag}": default must be a string (got ${JSON.stringify(spec.default)})`;
  }
  return undefined;
}

/** String values where '' means "not set". */
const OPTIONAL_STRING_KEYS = new Set(['global.registry', 'global.imagePullSecrets']);
function optionalStringProblem(path: string, value: string): string | undefined {
  if (value === '') return undefined;
  if (path === 'global.registry' && !/^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)*$/i.test(value)) return `must be a registry such as registry.example.com:5000/mirror (got "${value}")`;
  if (path === 'global.imagePullSecrets' && value.split(',').some((n) => !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(n.trim()))) return `must be comma-separated Secret names (got "${value}")`;
  return undefined;
}
const DURATION_KEYS = new Set(['ca.workloadCertTTL', 'ca.rootCertTTL', 'proxy.drainDuration']);
const QUANTITY = /^\d+(\.\d+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$/;
const PORT_KEYS = /Port$/;

/** Every leaf path of the defaults, e.g. 'proxy.resources.limits.cpu'. */
export function valuePaths(obj: unknown = DEFAULTS, prefix = ''): string[] {
  if (!isObject(obj)) return [prefix];
  return Object.keys(obj).flatMap((k) => valuePaths(obj[k], prefix ? `${prefix}.${k}` : k));
}

function leafAt(path: string): unknown {
  let cur: unknown = DEFAULTS;
  for (const part of path.split('.')) {
    // Own keys only: `toString`, `constructor` or `__proto__` are not values.
    if (!isObject(cur) || !Object.hasOwn(cur, part)) return undefined;
    cur = cur[part];
  }
  return cur;
}

/** Check one value against the key's type; returns an error message or undefined. */
function checkLeaf(path: string, value: unknown): string | undefined {
  const def = leafAt(path);
  const en = Object.hasOwn(ENUMS, path) ? ENUMS[path] : undefined;
  if (en) return en.includes(value as string) ? undefined : `must be one of ${en.join(', ')} (got ${JSON.stringify(value)})`;
  if (PERCENT_KEYS.has(path)) {
    return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 100 ? undefined : `must be a percentage from 0 to 100 (got ${JSON.stringify(value)})`;
  }
  if (typeof def === 'number') {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) return `must be a whole number (got ${JSON.stringify(value)})`;
    if (PORT_KEYS.test(path) && (value < 1 || value > 65535)) return `must be a port from 1 to 65535 (got ${value})`;
    return undefined;
  }
  if (typeof def === 'boolean') return typeof value === 'boolean' ? undefined : `must be true or false (got ${JSON.stringify(value)})`;
  if (path === 'metrics.prometheusUrl') return checkHttpUrl(value);
  if (OPTIONAL_STRING_KEYS.has(path)) return typeof value === 'string' ? optionalStringProblem(path, value) : `must be a string (got ${JSON.stringify(value)})`;
  if (typeof value !== 'string' || value === '') return `must be a non-empty string (got ${JSON.stringify(value)})`;
  if (DURATION_KEYS.has(path)) {
    const ms = tryParseDuration(value, '');
    if (typeof ms !== 'number') return `must be a duration such as 24h or 90m: ${ms.message.trim()}`;
  }
  if (HOST_PORT_KEYS.has(path) && !parseHostPort(value)) return `must be host:port, e.g. jaeger-collector.mesh-system.svc:4317 (got "${value}")`;
  if (path.includes('.resources.') && !QUANTITY.test(value)) return `must be a Kubernetes quantity such as 100m or 128Mi (got "${value}")`;
  if (path === 'namespace' && !isDns1123Label(value)) return `must be a Kubernetes namespace name: lowercase letters, digits and "-", at most 63 (got "${value}")`;
  if (path === 'trustDomain') {
    try {
      checkTrustDomain(value);
    } catch {
      return `must be a SPIFFE trust domain: lowercase letters, digits, ".", "-" and "_", no empty label, e.g. cluster.local (got "${value}")`;
    }
  }
  return undefined;
}

/** An http(s) URL, or empty (the one optional string value). */
function checkHttpUrl(value: unknown): string | undefined {
  if (value === '') return undefined;
  const bad = `must be an http or https URL such as http://prometheus.monitoring:9090, or empty (got ${JSON.stringify(value)})`;
  if (typeof value !== 'string') return bad;
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:' ? undefined : bad;
  } catch {
    return bad;
  }
}

/**
 * Validate an override (from a profile, a values file or --set) against the model: unknown keys
 * name the closest known key; wrong types name the expected one. `source` names where it came from.
 */
export function validateOverride(override: unknown, source: string, prefix = ''): void {
  if (!isObject(override)) throw inputError(`${source}: values must be a mapping${prefix ? ` at "${prefix}"` : ''}`, 'see docs/values.md for the keys');
  for (const [k, v] of Object.entries(override)) {
    const path = prefix ? `${prefix}.${k}` : k;
    const def = leafAt(path);
    if (def === undefined) {
      const siblings = prefix ? Object.keys(leafAt(prefix) as object) : Object.keys(DEFAULTS);
      const near = closest(k, siblings) ?? closest(path, valuePaths());
      const suggestion = near ? (near.includes('.') ? near : prefix ? `${prefix}.${near}` : near) : undefined;
      throw inputError(`${source}: unknown value "${path}"`, suggestion ? `did you mean "${suggestion}"? (see docs/values.md)` : 'see docs/values.md for the keys');
    }
    const mapCheck = Object.hasOwn(MAP_KEYS, path) ? MAP_KEYS[path] : undefined;
    if (mapCheck) {
      const problem = mapCheck(v);
      if (problem) throw inputError(`${source}: value "${path}" ${problem}`, 'see docs/values.md');
    } else if (isObject(def)) {
      validateOverride(v, source, path);
    } else {
      const problem = checkLeaf(path, v);
      if (problem) throw inputError(`${source}: value "${path}" ${problem}`, 'see docs/values.md');
    }
  }
}

function deepMerge<T>(base: T, over: unknown): T {
  if (!isObject(over)) return base;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over)) out[k] = isObject(v) && isObject(out[k]) ? deepMerge(out[k], v) : v;
  return out as T;
}

/** Parse one `--set a.b=c` into an override, typing c by the key's default (number, boolean, string). */
export function parseSet(expr: string): ValuesOverride {
  const eq = expr.indexOf('=');
  if (eq <= 0) throw inputError(`--set "${expr}": expected KEY=VALUE`, 'for example --set controller.replicas=3');
  const path = expr.slice(0, eq).trim();
  const raw = expr.slice(eq + 1);
  const def = leafAt(path);
  let value: unknown = raw;
  if (typeof def === 'number' && /^-?\d+$/.test(raw)) value = Number(raw);
  else if (PERCENT_KEYS.has(path) && /^-?\d+(\.\d+)?$/.test(raw)) value = Number(raw);
  else if (typeof def === 'boolean' && (raw === 'true' || raw === 'false')) value = raw === 'true';
  const override: Record<string, unknown> = {};
  let cur = override;
  const parts = path.split('.');
  // defineProperty, so a `__proto__` part becomes a key the validation refuses, not a prototype.
  const put = (o: Record<string, unknown>, k: string, v: unknown): void => void Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  parts.slice(0, -1).forEach((p) => {
    const next: Record<string, unknown> = {};
    put(cur, p, next);
    cur = next;
  });
  put(cur, parts[parts.length - 1]!, value);
  validateOverride(override, `--set ${path}`);
  return override as ValuesOverride;
}

export function findProfile(name: string): Profile {
  const p = PROFILES.find((x) => x.name === name);
  if (!p) {
    const near = closest(name, PROFILES.map((x) => x.name));
    throw inputError(`unknown profile "${name}"`, `${near ? `did you mean "${near}"? ` : ''}profiles: ${PROFILES.map((x) => x.name).join(', ')}`);
  }
  return p;
}

export interface ValuesInput {
  /** Profile name (default: "default"). */
  profile?: string;
  /** Parsed values files, in the order given, each with the name to use in errors. */
  files?: { source: string; values: unknown }[];
  /** --set expressions, applied last, in order. */
  sets?: string[];
}

/**
 * Resolve the effective values: defaults, then the profile, then each file, then each --set.
 * Pure; throws an input error (exit 2) naming the source and key of the first bad value.
 */
export function resolveValues(input: ValuesInput = {}): Values {
  const profile = findProfile(input.profile ?? 'default');
  let v: Values = deepMerge(structuredClone(DEFAULTS), profile.values);
  for (const f of input.files ?? []) {
    if (f.values === null || f.values === undefined) continue;
    validateOverride(f.values, f.source);
    v = deepMerge(v, f.values);
  }
  for (const s of input.sets ?? []) v = deepMerge(v, parseSet(s));
  return v;
}

/** The values that differ from the defaults, as a deep-partial (what upgrade records and shows). */
export function diffFromDefaults(v: Values, base: unknown = DEFAULTS): ValuesOverride {
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v as unknown as Record<string, unknown>)) {
    const b = isObject(base) ? base[k] : undefined;
    if (isObject(val)) {
      const sub = diffFromDefaults(val as unknown as Values, b);
      if (Object.keys(sub).length) out[k] = sub;
    } else if (val !== b) out[k] = val;
  }
  return out as ValuesOverride;
}

/** The mesh-wide telemetry (tracing, access logs) the controller translates under these values. */
export function telemetryOf(v: Values): MeshTelemetry {
  return { tracing: v.tracing, accessLog: v.accessLog };
}

/** The model options a controller installed with these values runs with (its --trust-domain and --default-mtls, which render.ts passes, and the telemetry). */
export function modelOptionsOf(v: Values): ModelOptions {
  return { trustDomain: v.trustDomain, defaultMtls: v.mtls.mode, telemetry: telemetryOf(v) };
}
