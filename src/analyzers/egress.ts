import { CODES } from './codes.js';
import { egressPlan, egressVerdict } from '../model/index.js';
import { refOf, where, type AnalysisIndex } from './lookup.js';
import type { Analyzer, Finding, SourcedObject } from './types.js';

/** Our ExternalService objects (mesh.dev/*). */
function externalServices(index: AnalysisIndex): SourcedObject[] {
  return (index.kinds.get('ExternalService') ?? []).filter((s) => s.object.apiVersion.startsWith('mesh.dev/'));
}

/**
 * ExternalServices with hosts or ports mesh cannot program (MSH0032): the model's warnings on
 * them, and the plan's conflicts (a port claimed with two protocols, a host and port twice).
 */
export const externalServiceChecks: Analyzer<AnalysisIndex> = {
  name: 'external-services',
  codes: [CODES.externalServiceInvalid],
  analyze(index) {
    const out: Finding[] = [];
    const c = CODES.externalServiceInvalid;
    const byKey = new Map(externalServices(index).map((s) => [`${s.object.metadata.namespace ?? 'default'}/${s.object.metadata.name}`, s]));
    for (const w of index.model.warnings) {
      const key = w.object.startsWith('ExternalService ') ? w.object.slice('ExternalService '.length) : undefined;
      const src = key ? byKey.get(key) : undefined;
      if (src) out.push({ code: c.code, severity: c.severity, message: w.message, resource: refOf(src.object), ...where(src) });
    }
    for (const x of egressPlan(index.model).conflicts) {
      const src = byKey.get(x.service);
      if (src) out.push({ code: c.code, severity: c.severity, message: `${x.host}:${x.port} is not programmed: ${x.why}`, resource: refOf(src.object), ...where(src) });
    }
    return out;
  },
};

const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443, ws: 80, wss: 443, grpc: 80, grpcs: 443, redis: 6379, rediss: 6379, postgres: 5432, postgresql: 5432, mysql: 3306, mongodb: 27017, amqp: 5672, amqps: 5671 };
const URL_IN_TEXT = /\b([a-z][a-z0-9+.-]*):\/\/(?:[^\s/@]+@)?([a-z0-9.-]+)(?::(\d+))?/gi;
const IP = /^\d+\.\d+\.\d+\.\d+$/;

/** Host and port of each URL in a text (`http://api.example.com/x`, `postgres://db:5432`); IPs and single-label hosts excluded. */
export function urlTargets(text: string): { host: string; port: number }[] {
  const out: { host: string; port: number }[] = [];
  for (const m of text.matchAll(URL_IN_TEXT)) {
    const scheme = m[1]!.toLowerCase();
    const host = m[2]!.toLowerCase().replace(/\.$/, '');
    const port = m[3] ? Number(m[3]) : DEFAULT_PORTS[scheme];
    if (port === undefined || IP.test(host) || host === 'localhost') continue;
    out.push({ host, port });
  }
  return out;
}

/**
 * Workloads whose declared outbound destinations registry-only would block (MSH0033, info): the
 * URLs in their containers' env values and args (what a workload declares it calls; traffic is
 * not seen offline) whose host is neither a Service of the input nor an ExternalService host. It
 * answers "what breaks if outboundTrafficPolicy becomes registry-only", whatever it is now.
 */
export const egressDestinations: Analyzer<AnalysisIndex> = {
  name: 'egress-destinations',
  codes: [CODES.egressUnregistered],
  analyze(index) {
    const out: Finding[] = [];
    const c = CODES.egressUnregistered;
    const registryOnly = { ...index.model, registryOnly: true };
    for (const w of index.workloads) {
      const seen = new Set<string>();
      for (const container of w.containers) {
        const texts: { where: string; text: string }[] = [];
        for (const e of Array.isArray(container.env) ? container.env : []) {
          if (typeof e === 'object' && e !== null && typeof (e as { value?: unknown }).value === 'string') texts.push({ where: `env ${String((e as { name?: unknown }).name)}`, text: (e as { value: string }).value });
        }
        for (const k of ['args', 'command'] as const) {
          const v = container[k];
          if (Array.isArray(v)) for (const a of v) if (typeof a === 'string') texts.push({ where: k, text: a });
        }
        for (const t of texts) {
          for (const { host, port } of urlTargets(t.text)) {
            const key = `${host}:${port}`;
            if (seen.has(key)) continue;
            seen.add(key);
            const v = egressVerdict(registryOnly, w.namespace, host, port);
            if (v.verdict !== 'blocked') continue;
            out.push({ code: c.code, severity: c.severity, message: `calls ${key} (${t.where} of container ${String(container.name)}), which no Service or ExternalService registers: outboundTrafficPolicy registry-only would block it`, resource: w.ref, ...where(w.src) });
          }
        }
      }
    }
    return out;
  },
};
