import { isIP } from 'node:net';
import { usageError } from '../errors.js';

/**
 * The traffic redirect the `mesh-init` container installs (`mesh proxy-init`), as pure data:
 * options in, iptables-restore input out. The injector (src/manifests/inject.ts) writes the
 * arguments; this module reads them, so the two are tested against each other.
 */

/** Parsed `mesh proxy-init` flags. Ports are numbers; '*' means all. */
export interface ProxyInitOptions {
  proxyUid: number;
  inboundCapturePort: number;
  outboundCapturePort: number;
  /** Inbound ports to capture, or '*' for all. */
  inboundPorts: number[] | '*';
  excludeInboundPorts: number[];
  excludeOutboundPorts: number[];
  /** Outbound destinations to capture, or '*' for all. */
  includeOutboundIpRanges: string[] | '*';
  excludeOutboundIpRanges: string[];
}

/** The raw flag values as commander hands them over (strings). */
export interface ProxyInitFlags {
  proxyUid?: string;
  inboundCapturePort?: string;
  outboundCapturePort?: string;
  inboundPorts?: string;
  excludeInboundPorts?: string;
  excludeOutboundPorts?: string;
  includeOutboundIpRanges?: string;
  excludeOutboundIpRanges?: string;
}

function port(flag: string, v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > 65535) throw usageError(`${flag} "${v}": not a port (1-65535)`);
  return n;
}

function ports(flag: string, v: string | undefined): number[] {
  if (v === undefined || v.trim() === '') return [];
  return v.split(',').map((p) => port(flag, p.trim()));
}

function cidrs(flag: string, v: string | undefined): string[] {
  if (v === undefined || v.trim() === '') return [];
  return v.split(',').map((c) => {
    const t = c.trim();
    const [ip, bits, extra] = t.split('/');
    const fam = isIP(ip ?? '');
    if (fam === 0 || extra !== undefined || (bits !== undefined && (!/^\d+$/.test(bits) || Number(bits) > (fam === 6 ? 128 : 32)))) {
      throw usageError(`${flag} "${t}": not a CIDR such as 10.0.0.0/8`);
    }
    return bits === undefined ? `${ip}/${fam === 6 ? 128 : 32}` : t;
  });
}

/** Validate and parse `mesh proxy-init` flags (throws a usage error naming the flag, exit 2). */
export function validateProxyInitOptions(f: ProxyInitFlags): ProxyInitOptions {
  const need = (flag: string, v: string | undefined): string => {
    if (v === undefined || v === '') throw usageError(`${flag} is required`, 'mesh proxy-init runs in the mesh-init container with the arguments mesh inject writes');
    return v;
  };
  const uid = need('--proxy-uid', f.proxyUid);
  if (!/^\d+$/.test(uid)) throw usageError(`--proxy-uid "${uid}": not a UID`);
  return {
    proxyUid: Number(uid),
    inboundCapturePort: port('--inbound-capture-port', need('--inbound-capture-port', f.inboundCapturePort)),
    outboundCapturePort: port('--outbound-capture-port', need('--outbound-capture-port', f.outboundCapturePort)),
    inboundPorts: f.inboundPorts === undefined || f.inboundPorts.trim() === '*' ? '*' : ports('--inbound-ports', f.inboundPorts),
    excludeInboundPorts: ports('--exclude-inbound-ports', f.excludeInboundPorts),
    excludeOutboundPorts: ports('--exclude-outbound-ports', f.excludeOutboundPorts),
    includeOutboundIpRanges: f.includeOutboundIpRanges === undefined || f.includeOutboundIpRanges.trim() === '*' ? '*' : cidrs('--include-outbound-ip-ranges', f.includeOutboundIpRanges),
    excludeOutboundIpRanges: cidrs('--exclude-outbound-ip-ranges', f.excludeOutboundIpRanges),
  };
}

/**
 * iptables-restore input (nat table) for one address family. Inbound TCP goes to the inbound
 * capture port, outbound TCP to the outbound capture port; the proxy's own UID, loopback
 * destinations and the exclusions return early so nothing loops. Deterministic text.
 */
export function iptablesRules(o: ProxyInitOptions, family: 4 | 6): string {
  const fam = (c: string) => (isIP(c.split('/')[0]!) === family ? [c] : []);
  const loopback = family === 4 ? '127.0.0.1/32' : '::1/128';
  const l: string[] = [
    '*nat',
    ':MESH_INBOUND - [0:0]',
    ':MESH_IN_REDIRECT - [0:0]',
    ':MESH_OUTPUT - [0:0]',
    ':MESH_REDIRECT - [0:0]',
    `-A MESH_IN_REDIRECT -p tcp -j REDIRECT --to-ports ${o.inboundCapturePort}`,
    `-A MESH_REDIRECT -p tcp -j REDIRECT --to-ports ${o.outboundCapturePort}`,
    '-A PREROUTING -p tcp -j MESH_INBOUND',
  ];
  for (const p of o.excludeInboundPorts) l.push(`-A MESH_INBOUND -p tcp --dport ${p} -j RETURN`);
  if (o.inboundPorts === '*') l.push('-A MESH_INBOUND -p tcp -j MESH_IN_REDIRECT');
  else for (const p of o.inboundPorts) l.push(`-A MESH_INBOUND -p tcp --dport ${p} -j MESH_IN_REDIRECT`);
  l.push('-A OUTPUT -p tcp -j MESH_OUTPUT');
  // The proxy's own connections (to apps and upstreams) must not be captured again.
  l.push(`-A MESH_OUTPUT -m owner --uid-owner ${o.proxyUid} -j RETURN`);
  l.push(`-A MESH_OUTPUT -d ${loopback} -j RETURN`);
  for (const p of o.excludeOutboundPorts) l.push(`-A MESH_OUTPUT -p tcp --dport ${p} -j RETURN`);
  for (const c of o.excludeOutboundIpRanges.flatMap(fam)) l.push(`-A MESH_OUTPUT -d ${c} -j RETURN`);
  if (o.includeOutboundIpRanges === '*') l.push('-A MESH_OUTPUT -j MESH_REDIRECT');
  else for (const c of o.includeOutboundIpRanges.flatMap(fam)) l.push(`-A MESH_OUTPUT -d ${c} -j MESH_REDIRECT`);
  l.push('COMMIT');
  return l.join('\n') + '\n';
}
