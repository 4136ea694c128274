import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import semver from 'semver';
import type { Cluster, KubeObject } from '../cluster/types.js';
import { parseDocumentText } from '../cluster/files.js';
import { LABEL_MANAGED_BY, MANAGED_BY } from '../constants.js';
import { ExitCode, MeshError, usageError } from '../errors.js';
import { isObject } from '../util/object.js';

// `mesh install --gateway-api`: the official Gateway API CRDs (standard channel) of one pinned
// release, byte for byte: the release's own standard-install.yaml, verified against its SHA-256
// before anything is applied. mesh ships no copy of its own (a home-made subset would drift from
// the upstream schemas and CEL rules); it downloads the pinned release asset, or reads the same
// file from disk for air-gapped clusters (--gateway-api-crds FILE).

/** The Gateway API release `--gateway-api` installs. */
export interface GatewayApiPin {
  /** Release tag, e.g. v1.5.0 (the CRDs carry it as gateway.networking.k8s.io/bundle-version). */
  version: string;
  /** Where the release's standard-install.yaml is published. */
  url: string;
  /** SHA-256 (hex) of that file. */
  sha256: string;
}

/** The pinned release: Gateway API v1.5.0, standard channel. */
export const GATEWAY_API: GatewayApiPin = {
  version: 'v1.5.0',
  url: 'https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.5.0/standard-install.yaml',
  sha256: '510338cf6709f84410efcce5269268f4c7c5067efdc5d04c75aa2fd2f8380c96',
};

/** The oldest Gateway API release mesh works with (HTTPRoute and GRPCRoute v1, ReferenceGrant v1beta1). */
export const GATEWAY_API_MINIMUM = 'v1.1.0';

/** Annotations every official Gateway API CRD carries. */
export const BUNDLE_VERSION = 'gateway.networking.k8s.io/bundle-version';
export const CHANNEL = 'gateway.networking.k8s.io/channel';
/** The CRD group of the Gateway API. */
export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

/** How `--gateway-api` gets the bundle; tests replace `fetch` and may pin another file. */
export interface GatewayApiDeps {
  fetch?: (url: string, init: { signal: AbortSignal }) => Promise<{ ok: boolean; status: number; arrayBuffer(): Promise<ArrayBuffer> }>;
  pin?: GatewayApiPin;
  /** Download time budget (default 60 s). */
  timeoutMs?: number;
}

/**
 * The verified objects of the pinned bundle, read from `file` when given, else downloaded from
 * the release. A file or download whose digest differs from the pin is refused (exit 2 for a
 * file, naming it; exit 1 for a download), and so is a bundle that holds anything but Gateway API
 * CRDs and their admission policy.
 */
export async function loadGatewayApiBundle(file: string | undefined, deps: GatewayApiDeps = {}): Promise<KubeObject[]> {
  const pin = deps.pin ?? GATEWAY_API;
  let bytes: Buffer;
  let origin: string;
  if (file) {
    origin = file;
    try {
      bytes = await readFile(file);
    } catch (err) {
      throw usageError(`--gateway-api-crds ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, `download ${pin.url} and pass its path`);
    }
  } else {
    origin = pin.url;
    bytes = await download(pin, deps);
  }
  const digest = createHash('sha256').update(bytes).digest('hex');
  if (digest !== pin.sha256) {
    const msg = `${origin}: SHA-256 ${digest} is not that of the Gateway API ${pin.version} standard-install.yaml (${pin.sha256})`;
    const hint = `use the release file itself (${pin.url}); mesh installs only the pinned release's CRDs`;
    throw file ? usageError(msg, hint) : new MeshError(msg, { hint, exitCode: ExitCode.Failed });
  }
  return bundleObjects(bytes.toString('utf8'), origin, pin);
}

async function download(pin: GatewayApiPin, deps: GatewayApiDeps): Promise<Buffer> {
  const get = deps.fetch ?? ((url: string, init: { signal: AbortSignal }) => fetch(url, init));
  const hint = `without internet access, download ${pin.url} elsewhere and pass --gateway-api-crds FILE`;
  try {
    const res = await get(pin.url, { signal: AbortSignal.timeout(deps.timeoutMs ?? 60_000) });
    if (!res.ok) throw new MeshError(`downloading the Gateway API ${pin.version} CRDs from ${pin.url}: HTTP ${res.status}`, { hint, exitCode: ExitCode.Failed });
    return Buffer.from(await res.arrayBuffer());
  } catch (err) {
    if (err instanceof MeshError) throw err;
    throw new MeshError(`downloading the Gateway API ${pin.version} CRDs from ${pin.url}: ${(err as Error).message}`, { hint, exitCode: ExitCode.Failed });
  }
}

const ALLOWED_KINDS = new Set(['CustomResourceDefinition', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']);

/** The objects of a verified bundle, each labelled as managed by mesh (so upgrade and uninstall know whose they are). */
export function bundleObjects(text: string, origin: string, pin: GatewayApiPin): KubeObject[] {
  const objects: KubeObject[] = [];
  text.split(/^---[ \t]*$/m).forEach((doc, index) => {
    const parsed = parseDocumentText(doc, origin, index, 1);
    if (parsed === null || parsed === undefined) return;
    if (!isObject(parsed) || typeof parsed.kind !== 'string' || !ALLOWED_KINDS.has(parsed.kind)) {
      throw usageError(`${origin}: document ${index + 1} is not a Gateway API CRD (kind ${isObject(parsed) ? String(parsed.kind) : typeof parsed})`, `use the Gateway API ${pin.version} standard-install.yaml as released`);
    }
    const o = parsed as unknown as KubeObject;
    if (o.kind === 'CustomResourceDefinition') {
      const ann = o.metadata.annotations ?? {};
      if (ann[CHANNEL] !== 'standard' || ann[BUNDLE_VERSION] !== pin.version) {
        throw usageError(`${origin}: CustomResourceDefinition ${o.metadata.name} is ${ann[CHANNEL] ?? 'no'} channel ${ann[BUNDLE_VERSION] ?? 'of no release'}, not standard ${pin.version}`, `use the Gateway API ${pin.version} standard-install.yaml as released`);
      }
    }
    o.metadata.labels = { ...o.metadata.labels, [LABEL_MANAGED_BY]: MANAGED_BY };
    objects.push(o);
  });
  if (!objects.some((o) => o.kind === 'CustomResourceDefinition')) throw usageError(`${origin}: holds no CustomResourceDefinition`, `use the Gateway API ${pin.version} standard-install.yaml as released`);
  return objects;
}

/** The Gateway API release the cluster's CRDs come from, and whether mesh manages them. */
export interface InstalledGatewayApi {
  /** bundle-version of the HTTPRoute CRD; undefined when the CRD is missing; '' when unannotated (not an official CRD). */
  version: string | undefined;
  channel: string | undefined;
  /** Names of Gateway API CRDs present that mesh does not manage. */
  foreign: string[];
}

/** Read which Gateway API CRDs the cluster has. */
export async function installedGatewayApi(cluster: Cluster): Promise<InstalledGatewayApi> {
  const crds = await cluster.list('apiextensions.k8s.io/v1', 'CustomResourceDefinition');
  const ours = crds.filter((c) => c.metadata.name.endsWith(`.${GATEWAY_GROUP}`));
  const route = ours.find((c) => c.metadata.name === `httproutes.${GATEWAY_GROUP}`);
  return {
    version: route ? (route.metadata.annotations?.[BUNDLE_VERSION] ?? '') : undefined,
    channel: route?.metadata.annotations?.[CHANNEL],
    foreign: ours.filter((c) => c.metadata.labels?.[LABEL_MANAGED_BY] !== MANAGED_BY).map((c) => c.metadata.name).sort(),
  };
}

/**
 * Before `--gateway-api` applies the bundle: refuse to take over Gateway API CRDs that another
 * tool manages (Helm, a gateway controller, kubectl), and to downgrade CRDs of a newer release
 * (objects may be stored in versions the older CRDs no longer serve).
 */
export async function assertGatewayApiInstallable(cluster: Cluster, pin: GatewayApiPin = GATEWAY_API): Promise<void> {
  const now = await installedGatewayApi(cluster);
  if (now.foreign.length) {
    throw new MeshError(`the cluster already has Gateway API CRDs that mesh does not manage (${now.foreign.join(', ')}): --gateway-api will not overwrite them`, {
      hint: 'mesh uses the Gateway API CRDs already installed as they are: run the command again without --gateway-api',
      exitCode: ExitCode.Failed,
    });
  }
  const have = semver.valid(semver.coerce(now.version ?? ''));
  if (have && semver.gt(have, semver.coerce(pin.version)!)) {
    throw new MeshError(`the cluster's Gateway API CRDs are ${now.version}, newer than the ${pin.version} that --gateway-api installs: refusing to downgrade them`, {
      hint: 'run the command again without --gateway-api',
      exitCode: ExitCode.Failed,
    });
  }
}
