import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import {
  ANNOTATION_EXCLUDE_INBOUND_PORTS,
  ANNOTATION_EXCLUDE_OUTBOUND_IP_RANGES,
  ANNOTATION_EXCLUDE_OUTBOUND_PORTS,
  ANNOTATION_HOLD_APPLICATION,
  ANNOTATION_INCLUDE_OUTBOUND_IP_RANGES,
  ANNOTATION_PROXY_CPU,
  ANNOTATION_PROXY_CPU_LIMIT,
  ANNOTATION_PROXY_MEMORY,
  ANNOTATION_PROXY_MEMORY_LIMIT,
  ANNOTATION_REWRITE_PROBES,
  ANNOTATION_STATUS,
} from '../../constants.js';
import { inputError } from '../../errors.js';
import type { Resources, Values } from '../values.js';
import type { InjectStatus } from './types.js';

/** What a pod asks for: the native-sidecar decision, annotation parsing into PodSettings, and the status annotation. */

/**
 * Decide native sidecar mode from --native-sidecar (or values.proxy.nativeSidecar) and the target
 * Kubernetes version ("1.29", "v1.30.2"), when known. auto = on for 1.29 and later; unknown = off.
 */
export function resolveNativeSidecar(mode: 'auto' | 'on' | 'off', kubeVersion?: string): { enabled: boolean; reason: string } {
  if (mode === 'on') return { enabled: true, reason: 'native sidecar: on (--native-sidecar on)' };
  if (mode === 'off') return { enabled: false, reason: 'native sidecar: off (--native-sidecar off)' };
  if (kubeVersion === undefined) return { enabled: false, reason: 'native sidecar: off (auto, and the Kubernetes version is unknown: pass --kube-version or --from-cluster)' };
  const v = parseKubeVersion(kubeVersion);
  const on = v.major > 1 || (v.major === 1 && v.minor >= 29);
  return { enabled: on, reason: `native sidecar: ${on ? 'on' : 'off'} (auto, Kubernetes ${v.major}.${v.minor} ${on ? '>=' : '<'} 1.29)` };
}

/** Parse "1.29", "v1.30.2", "1.28+" into major/minor; a bad one is an input error. */
export function parseKubeVersion(s: string): { major: number; minor: number } {
  const m = /^v?(\d+)\.(\d+)/.exec(s.trim());
  if (!m) throw inputError(`Kubernetes version "${s}" is not a version`, 'use MAJOR.MINOR, for example --kube-version 1.30');
  return { major: Number(m[1]), minor: Number(m[2]) };
}

// ---------------------------------------------------------------------------------------------
// Annotation parsing: a bad value is an input error naming the annotation.

const QUANTITY = /^\d+(\.\d+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$/;

/** Throw the input error for an annotation with a bad value, saying what was expected. */
export function badAnnotation(key: string, value: string, expected: string): never {
  throw inputError(`annotation ${key}: "${value}" is not ${expected}`, 'see docs/annotations.md');
}

function portList(key: string, value: string | undefined): number[] {
  if (value === undefined || value.trim() === '') return [];
  return value.split(',').map((p) => {
    const t = p.trim();
    const n = Number(t);
    if (!/^\d+$/.test(t) || n < 1 || n > 65535) badAnnotation(key, value, 'a comma-separated list of ports (1-65535)');
    return n;
  });
}

function cidrList(key: string, value: string | undefined, allowStar: boolean): string[] {
  if (value === undefined || value.trim() === '') return [];
  const items = value.split(',').map((c) => c.trim());
  for (const c of items) {
    if (allowStar && c === '*' && items.length === 1) continue;
    const [ip, bits, extra] = c.split('/');
    const fam = isIP(ip ?? '');
    const max = fam === 6 ? 128 : 32;
    if (fam === 0 || extra !== undefined || (bits !== undefined && (!/^\d+$/.test(bits) || Number(bits) > max))) {
      badAnnotation(key, value, `a comma-separated list of CIDRs such as 10.0.0.0/8${allowStar ? ', or *' : ''}`);
    }
  }
  return items;
}

function bool(key: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return badAnnotation(key, value, 'true or false');
}

function quantity(key: string, value: string | undefined, fallback: string): string {
  if (value === undefined) return fallback;
  if (!QUANTITY.test(value)) badAnnotation(key, value, 'a Kubernetes quantity such as 100m or 128Mi');
  return value;
}

/** The pod's settings, from values and its annotations; throws on a bad annotation value. */
export interface PodSettings {
  resources: Resources;
  hold: boolean;
  rewriteProbes: boolean;
  excludeInboundPorts: number[];
  excludeOutboundPorts: number[];
  excludeOutboundIpRanges: string[];
  includeOutboundIpRanges: string[];
}

/** The annotations settings() reads. */
export const SETTINGS_ANNOTATIONS = [
  ANNOTATION_PROXY_CPU,
  ANNOTATION_PROXY_MEMORY,
  ANNOTATION_PROXY_CPU_LIMIT,
  ANNOTATION_PROXY_MEMORY_LIMIT,
  ANNOTATION_HOLD_APPLICATION,
  ANNOTATION_REWRITE_PROBES,
  ANNOTATION_EXCLUDE_INBOUND_PORTS,
  ANNOTATION_EXCLUDE_OUTBOUND_PORTS,
  ANNOTATION_EXCLUDE_OUTBOUND_IP_RANGES,
  ANNOTATION_INCLUDE_OUTBOUND_IP_RANGES,
] as const;

/** Resolve a pod's settings from values and its annotations; throws on a bad annotation value. */
export function settings(ann: Record<string, string>, values: Values): PodSettings {
  const r = values.proxy.resources;
  return {
    resources: {
      requests: { cpu: quantity(ANNOTATION_PROXY_CPU, ann[ANNOTATION_PROXY_CPU], r.requests.cpu), memory: quantity(ANNOTATION_PROXY_MEMORY, ann[ANNOTATION_PROXY_MEMORY], r.requests.memory) },
      limits: { cpu: quantity(ANNOTATION_PROXY_CPU_LIMIT, ann[ANNOTATION_PROXY_CPU_LIMIT], r.limits.cpu), memory: quantity(ANNOTATION_PROXY_MEMORY_LIMIT, ann[ANNOTATION_PROXY_MEMORY_LIMIT], r.limits.memory) },
    },
    hold: bool(ANNOTATION_HOLD_APPLICATION, ann[ANNOTATION_HOLD_APPLICATION], values.proxy.holdApplicationUntilProxyStarts),
    rewriteProbes: bool(ANNOTATION_REWRITE_PROBES, ann[ANNOTATION_REWRITE_PROBES], true),
    excludeInboundPorts: portList(ANNOTATION_EXCLUDE_INBOUND_PORTS, ann[ANNOTATION_EXCLUDE_INBOUND_PORTS]),
    excludeOutboundPorts: portList(ANNOTATION_EXCLUDE_OUTBOUND_PORTS, ann[ANNOTATION_EXCLUDE_OUTBOUND_PORTS]),
    excludeOutboundIpRanges: cidrList(ANNOTATION_EXCLUDE_OUTBOUND_IP_RANGES, ann[ANNOTATION_EXCLUDE_OUTBOUND_IP_RANGES], false),
    includeOutboundIpRanges: cidrList(ANNOTATION_INCLUDE_OUTBOUND_IP_RANGES, ann[ANNOTATION_INCLUDE_OUTBOUND_IP_RANGES], true),
  };
}

/** Parse the status annotation; a broken one is an input error (it would make uninject guess). */
export function readStatus(ann: Record<string, string> | undefined): InjectStatus | undefined {
  const raw = ann?.[ANNOTATION_STATUS];
  if (raw === undefined) return undefined;
  let s: unknown;
  try {
    s = JSON.parse(raw);
  } catch {
    return badAnnotation(ANNOTATION_STATUS, raw.length > 60 ? raw.slice(0, 60) + '...' : raw, 'the JSON mesh inject writes');
  }
  const st = s as Partial<InjectStatus>;
  const strings = (x: unknown) => x === undefined || (Array.isArray(x) && x.every((e) => typeof e === 'string'));
  if (
    typeof st !== 'object' || st === null || typeof st.version !== 'string' || !Array.isArray(st.containers) ||
    ![st.containers, st.initContainers, st.volumes, st.labels, st.annotations, st.absent].every(strings) ||
    (st.probes !== undefined && (typeof st.probes !== 'object' || st.probes === null || Array.isArray(st.probes)))
  ) {
    return badAnnotation(ANNOTATION_STATUS, raw.slice(0, 60), 'the JSON mesh inject writes');
  }
  return {
    version: st.version,
    nativeSidecar: st.nativeSidecar === true,
    exitWithApp: st.exitWithApp === true,
    ...(Array.isArray(st.imagePullSecrets) && st.imagePullSecrets.every((x) => typeof x === 'string') ? { imagePullSecrets: st.imagePullSecrets } : {}),
    containers: st.containers,
    initContainers: st.initContainers ?? [],
    volumes: st.volumes ?? [],
    labels: st.labels ?? [],
    annotations: st.annotations ?? [],
    absent: st.absent ?? [],
    probes: st.probes ?? {},
  };
}

/**
 * semver (CommonJS, 47 files, about 20 ms to load), loaded when first needed: only pods injected
 * earlier ask, and `mesh inject` of fresh manifests never does.
 */
let semverLib: typeof import('semver') | undefined;
function loadSemver(): typeof import('semver') {
  return (semverLib ??= createRequire(import.meta.url)('semver') as typeof import('semver'));
}

/**
 * Whether `prior` (the mesh version that injected a pod) is newer than `version`, by semver
 * (pre-releases before their release; `v1.2` reads as 1.2.0). A version semver cannot read is not
 * newer, so such a pod is re-injected rather than left alone.
 */
export function isNewerVersion(prior: string, version: string): boolean {
  const semver = loadSemver();
  const a = semver.coerce(prior, { includePrerelease: true });
  const b = semver.coerce(version, { includePrerelease: true });
  return a !== null && b !== null && semver.gt(a, b);
}
