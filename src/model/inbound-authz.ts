import { isHttp, policiesFor } from './build.js';
import { decide, portAuthz, type AuthzDecision, type AuthzRequest, type PortAuthz } from './authz.js';
import type { MeshModel, Protocol, Workload } from './types.js';

// A workload's inbound side as its proxy enforces it: which filter chain a connection lands on
// (a Service port, or the passthrough for any other port), what mTLS requires there, and the
// authorization of that chain. The sidecar and proxyless translations build their RBAC filters
// from `inboundPortAuthz`; `inboundDecision` answers `mesh authz check` from the same description.

/** Whether a namespace denies by default (label `mesh.dev/default-deny` or the mesh-wide value). */
export function defaultDenies(model: MeshModel, namespace: string): boolean {
  return model.namespaces.find((n) => n.name === namespace)?.defaultDeny === true;
}

/** The chain a port lands on: a Service port of the workload (with its protocol), or the inbound passthrough. */
export function inboundPort(w: Workload, port: number): { served: true; protocol: Protocol } | { served: false } {
  const p = w.ports.find((x) => x.port === port);
  return p ? { served: true, protocol: p.protocol } : { served: false };
}

/**
 * The authorization of one chain of a workload's inbound side: `port` a Service port of it, or
 * undefined for the passthrough chain (other ports: opaque, so HTTP-only ALLOW rules never match).
 */
export function inboundPortAuthz(model: MeshModel, w: Workload, port: number | undefined): PortAuthz {
  const served = port === undefined ? undefined : w.ports.find((x) => x.port === port);
  return portAuthz(model.trustDomain, policiesFor(model, w), served ? isHttp(served.protocol) : false, defaultDenies(model, w.namespace));
}

/**
 * What the workload's sidecar does with a connection (and, on HTTP ports, a request): mTLS first
 * (STRICT needs a client certificate and drops ports no Service exposes), then the chain's
 * authorization. A `principal` means the caller connected with mTLS; a DISABLE workload's chains
 * take plaintext only, and the passthrough chain never terminates TLS, so no principal is seen there.
 */
export function inboundDecision(model: MeshModel, w: Workload, req: AuthzRequest): AuthzDecision {
  const at = inboundPort(w, req.port);
  const tls = req.principal !== undefined;
  if (at.served && !(tls && w.mtls === 'DISABLE')) {
    if (!tls && w.mtls === 'STRICT') return { allowed: false, by: 'mtls', reason: `${w.namespace}/${w.name} requires mTLS (STRICT) and the caller presents no client certificate` };
    return decide(inboundPortAuthz(model, w, req.port), req);
  }
  if (w.mtls === 'STRICT') return { allowed: false, by: 'mtls', reason: `port ${req.port} is not a port of a Service selecting ${w.namespace}/${w.name}, and STRICT mTLS drops such traffic` };
  const { principal: _unseen, ...plain } = req;
  return decide(inboundPortAuthz(model, w, undefined), plain);
}
