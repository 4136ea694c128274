import { routeOrder } from './routes.js';
import type { ExternalPort, ExternalService, MeshModel, MeshService } from './types.js';

// Egress as the sidecar enforces it, decided once: which ExternalService host and port gets a
// cluster and filter chain (the xDS translation, src/xds/egress.ts, renders this plan) and what a
// call to a host and port comes to (`mesh check` asks this for each workload's declared destinations).

export { EGRESS_BLOCKED_CLUSTER } from '../constants.js';

/** One external host and port that gets a DNS cluster. */
export interface EgressEntry {
  host: string;
  port: number;
  targetPort: number;
  protocol: ExternalPort['protocol'];
  tlsOrigination: boolean;
  /** `NS/NAME` of the ExternalService. */
  service: string;
}

/** A host or port an ExternalService declares that the plan could not take, and why. */
export interface EgressConflict {
  service: string;
  host: string;
  port: number;
  why: string;
}

/** What sidecars program for egress. */
export interface EgressPlan {
  entries: EgressEntry[];
  /** One protocol per port: it decides how the port's chain tells hosts apart. */
  ports: { port: number; protocol: ExternalPort['protocol']; service: string }[];
  conflicts: EgressConflict[];
}

/**
 * The egress plan: ExternalServices oldest first (then namespace/name, as routes), first claim wins. A port carries one
 * protocol (HTTP routes by Host, TLS by SNI, TCP cannot tell hosts apart so one host per port); a
 * host and port is registered once. Later claims that disagree are conflicts, never a NACKed config.
 */
export function egressPlan(model: MeshModel): EgressPlan {
  const plan: EgressPlan = { entries: [], ports: [], conflicts: [] };
  for (const s of [...(model.externalServices ?? [])].sort(routeOrder)) {
    const service = `${s.namespace}/${s.name}`;
    for (const p of s.ports) {
      const claimed = plan.ports.find((x) => x.port === p.number);
      if (claimed && claimed.protocol !== p.protocol) {
        for (const host of s.hosts) plan.conflicts.push({ service, host, port: p.number, why: `port ${p.number} is ${claimed.protocol.toUpperCase()} in ExternalService ${claimed.service}; one port carries one protocol` });
        continue;
      }
      if (!claimed) plan.ports.push({ port: p.number, protocol: p.protocol, service });
      for (const host of s.hosts) {
        const dup = plan.entries.find((e) => e.port === p.number && (e.host === host || p.protocol === 'tcp'));
        if (dup) {
          plan.conflicts.push({ service, host, port: p.number, why: p.protocol === 'tcp' && dup.host !== host ? `TCP port ${p.number} already goes to ${dup.host} (ExternalService ${dup.service}): TCP cannot tell hosts apart` : `${host}:${p.number} is already registered by ExternalService ${dup.service}` });
          continue;
        }
        plan.entries.push({ host, port: p.number, targetPort: p.targetPort, protocol: p.protocol, tlsOrigination: s.tlsOrigination && p.protocol === 'http', service });
      }
    }
  }
  plan.ports.sort((a, b) => a.port - b.port);
  return plan;
}

const NONE: readonly ExternalService[] = [];
/** Plans by the model's ExternalService list (egressPlan reads nothing else). */
const plans = new WeakMap<readonly ExternalService[], EgressPlan>();
const nameIndex = new WeakMap<readonly MeshService[], Map<string, MeshService>>();

/** The model's egress plan, made once per ExternalService list. */
function cachedPlan(model: MeshModel): EgressPlan {
  const key = model.externalServices ?? NONE;
  let plan = plans.get(key);
  if (!plan) plans.set(key, (plan = egressPlan(model)));
  return plan;
}

/** Each Service by FQDN, NAME.NS and NAME.NS.svc (the first Service of the list keeps a name). */
function serviceNames(services: readonly MeshService[]): Map<string, MeshService> {
  let m = nameIndex.get(services);
  if (!m) {
    m = new Map();
    for (const s of services) for (const n of [s.fqdn, `${s.name}.${s.namespace}`, `${s.name}.${s.namespace}.svc`]) if (!m.has(n)) m.set(n, s);
    nameIndex.set(services, m);
  }
  return m;
}

/** What happens to a call from a sidecar to `host:port`. */
export type EgressVerdict =
  | { verdict: 'service'; service: string }
  | { verdict: 'external'; service: string; host: string }
  | { verdict: 'passthrough' }
  | { verdict: 'blocked'; reason: string };

/**
 * Where a sidecar in `namespace` sends a call to `host:port`: a mesh Service (by its names:
 * NAME, NAME.NS, NAME.NS.svc, the FQDN), an ExternalService host, or unknown: passed through
 * (allow-any) or refused by BlockedByRegistryOnly (registry-only).
 */
export function egressVerdict(model: MeshModel, namespace: string, host: string, port: number): EgressVerdict {
  const h = host.toLowerCase().replace(/\.$/, '');
  // A Service's names have 2 (NAME.NS), 3 (NAME.NS.svc) or more labels (the FQDN); NAME alone
  // means NAME.NS in the caller's namespace.
  const names = serviceNames(model.services);
  const svc = names.get(h) ?? (h.includes('.') ? undefined : names.get(`${h}.${namespace}`));
  if (svc) return { verdict: 'service', service: `${svc.namespace}/${svc.name}` };
  const plan = cachedPlan(model);
  const claimed = plan.ports.find((p) => p.port === port);
  const entry = plan.entries.find((e) => e.port === port && (e.host === h || claimed?.protocol === 'tcp'));
  if (entry) return { verdict: 'external', service: entry.service, host: entry.host };
  if (model.registryOnly !== true) return { verdict: 'passthrough' };
  return { verdict: 'blocked', reason: `${h}:${port} is neither a Service nor an ExternalService host, and outboundTrafficPolicy is registry-only` };
}
