import { KNOWN_MESH_ANNOTATIONS, MESH_DOMAIN } from '../constants.js';
import { closest } from '../suggest.js';
import { isObject } from '../util/object.js';
import { durationValue } from '../duration.js';
import { CODES } from './codes.js';
import { parseSamplingAnnotation } from '../model/index.js';
import { refOf, where, type AnalysisIndex } from './lookup.js';
import type { Analyzer, Finding, SourcedObject } from './types.js';

type Validator = (v: string) => string | undefined;

const oneOf = (...allowed: string[]): Validator => (v) => (allowed.includes(v) ? undefined : `must be one of ${allowed.join(', ')}`);
const oneOfCi = (...allowed: string[]): Validator => (v) => (allowed.includes(v.toUpperCase()) ? undefined : `must be one of ${allowed.join(', ')}`);
const json: Validator = (v) => {
  try {
    const x: unknown = JSON.parse(v);
    return isObject(x) ? undefined : 'must be a JSON object';
  } catch {
    return 'must be a JSON object (it does not parse)';
  }
};
/** A JSON object whose duration fields (dotted paths) read as durations, as the model reads them. */
const jsonWithDurations = (...paths: string[]): Validator => (v) => {
  const bad = json(v);
  if (bad) return bad;
  const o = JSON.parse(v) as Record<string, unknown>;
  for (const path of paths) {
    const x = path.split('.').reduce<unknown>((cur, k) => (isObject(cur) ? cur[k] : undefined), o);
    const ms = durationValue(x, path);
    if (ms !== undefined && typeof ms !== 'number') return ms.message;
  }
  return undefined;
};
const list = (item: (s: string) => boolean, what: string): Validator => (v) => {
  const bad = v.split(',').map((s) => s.trim()).filter((s) => s !== '' && !item(s));
  return bad.length ? `${bad.map((b) => `"${b}"`).join(', ')} ${bad.length === 1 ? 'is' : 'are'} not ${what}` : undefined;
};
const isPort = (s: string): boolean => /^\d+$/.test(s) && Number(s) >= 1 && Number(s) <= 65535;
const isCidr = (s: string): boolean => s === '*' || /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/.test(s) || /^[0-9a-f:]+\/\d{1,3}$/i.test(s);
const isLabel = (s: string): boolean => /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(s);
const quantity = (re: RegExp, what: string): Validator => (v) => (re.test(v) ? undefined : `must be ${what}`);
const CPU = /^(\d+m|\d+(\.\d+)?)$/;
const MEMORY = /^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T|E|Ei)?$/;

/** Value rules per known annotation; keys without a rule accept any value. */
const VALIDATORS: Record<string, Validator> = {
  [`${MESH_DOMAIN}/inject`]: oneOf('enabled', 'disabled'),
  [`${MESH_DOMAIN}/status`]: json,
  [`${MESH_DOMAIN}/mtls`]: oneOfCi('STRICT', 'PERMISSIVE', 'DISABLE'),
  [`${MESH_DOMAIN}/reachable-namespaces`]: list(isLabel, 'a namespace name'),
  [`${MESH_DOMAIN}/retry`]: jsonWithDurations('perTryTimeout', 'backoff'),
  [`${MESH_DOMAIN}/fault`]: jsonWithDurations('delay.fixedDelay'),
  [`${MESH_DOMAIN}/outlier-detection`]: jsonWithDurations('interval', 'baseEjectionTime'),
  [`${MESH_DOMAIN}/circuit-breaker`]: json,
  [`${MESH_DOMAIN}/proxy-cpu`]: quantity(CPU, 'a CPU quantity such as 100m or 0.5'),
  [`${MESH_DOMAIN}/proxy-cpu-limit`]: quantity(CPU, 'a CPU quantity such as 100m or 0.5'),
  [`${MESH_DOMAIN}/proxy-memory`]: quantity(MEMORY, 'a memory quantity such as 64Mi'),
  [`${MESH_DOMAIN}/proxy-memory-limit`]: quantity(MEMORY, 'a memory quantity such as 64Mi'),
  [`${MESH_DOMAIN}/exclude-inbound-ports`]: list(isPort, 'a port number (1-65535)'),
  [`${MESH_DOMAIN}/exclude-outbound-ports`]: list(isPort, 'a port number (1-65535)'),
  [`${MESH_DOMAIN}/exclude-outbound-ip-ranges`]: list(isCidr, 'a CIDR'),
  [`${MESH_DOMAIN}/include-outbound-ip-ranges`]: list(isCidr, 'a CIDR'),
  [`${MESH_DOMAIN}/hold-application-until-proxy-starts`]: oneOf('true', 'false'),
  [`${MESH_DOMAIN}/rewrite-app-probes`]: oneOf('true', 'false'),
  [`${MESH_DOMAIN}/config-hash`]: quantity(/^[0-9a-f]{8,64}$/, 'a hex digest'),
  [`${MESH_DOMAIN}/trace-sampling`]: (v) => (parseSamplingAnnotation(v) === undefined ? 'must be a percentage from 0 to 100 (e.g. 10 or 0.5) or off' : undefined),
  [`${MESH_DOMAIN}/access-log`]: (v) => oneOf('on', 'off', 'text', 'json')(v.toLowerCase()),
  [`${MESH_DOMAIN}/check-suppress`]: list((s) => /^MSH\d{4}$/.test(s), 'a finding code (MSHnnnn)'),
};

/** Validate one mesh.dev annotation; undefined when fine. Exported for the table test. */
export function validateAnnotation(key: string, value: string): { code: 'unknown'; suggestion?: string } | { code: 'invalid'; reason: string } | undefined {
  if (!KNOWN_MESH_ANNOTATIONS.includes(key)) return { code: 'unknown', suggestion: closest(key, KNOWN_MESH_ANNOTATIONS) };
  const reason = VALIDATORS[key]?.(value.trim());
  return reason ? { code: 'invalid', reason } : undefined;
}

function annotationSets(src: SourcedObject): { where: string; annotations: Record<string, unknown> }[] {
  const o = src.object;
  const out = [{ where: '', annotations: (o.metadata.annotations ?? {}) as Record<string, unknown> }];
  const spec = o.spec as { template?: { metadata?: { annotations?: Record<string, unknown> } }; jobTemplate?: { spec?: { template?: { metadata?: { annotations?: Record<string, unknown> } } } } } | undefined;
  const tmpl = spec?.template?.metadata?.annotations ?? spec?.jobTemplate?.spec?.template?.metadata?.annotations;
  if (tmpl) out.push({ where: 'pod template ', annotations: tmpl });
  return out;
}

/** mesh.dev annotations with unknown keys (MSH0012, with a did-you-mean) or invalid values (MSH0013). */
export const annotations: Analyzer<AnalysisIndex> = {
  name: 'annotations',
  codes: [CODES.annotationUnknown, CODES.annotationInvalid],
  analyze(index) {
    const out: Finding[] = [];
    const prefix = `${MESH_DOMAIN}/`;
    for (const src of index.objects) {
      for (const set of annotationSets(src)) {
        for (const [key, raw] of Object.entries(set.annotations)) {
          if (!key.startsWith(prefix)) continue;
          const value = typeof raw === 'string' ? raw : String(raw);
          const v = validateAnnotation(key, value);
          if (!v) continue;
          if (v.code === 'unknown') {
            out.push({ code: CODES.annotationUnknown.code, severity: CODES.annotationUnknown.severity, message: `${set.where}annotation ${key} is not a mesh annotation and is ignored${v.suggestion ? ` (did you mean ${v.suggestion}?)` : ''}`, resource: refOf(src.object), ...where(src) });
          } else {
            out.push({ code: CODES.annotationInvalid.code, severity: CODES.annotationInvalid.severity, message: `${set.where}annotation ${key}="${value}": ${v.reason}`, resource: refOf(src.object), ...where(src) });
          }
        }
      }
    }
    return out;
  },
};
