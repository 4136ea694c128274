import { readFile } from 'node:fs/promises';
import type { Cluster } from '../cluster/types.js';
import { parseValuesYaml, readValuesFiles } from '../cluster/values-files.js';
import { CONTROLLER_NAME, MESH_CONFIG_KEY, MESH_CONFIG_NAME, ROOT_CA_SECRET } from '../constants.js';
import { resolveValues, type Values } from '../manifests/values.js';
import type { CertAndKey, TokenReviewer } from '../pki/index.js';
import { inputError, MeshError } from '../errors.js';

/** Parse a values YAML text into resolved Values; `source` names it in errors. */
export function valuesFromYaml(text: string, source: string): Values {
  return resolveValues({ files: [{ source, values: parseValuesYaml(text, source) }] });
}

/** Values from `--values FILE`, or the defaults. */
export async function valuesFromFile(path: string | undefined): Promise<Values> {
  if (!path) return resolveValues();
  return resolveValues({ files: await readValuesFiles([path]) });
}

/**
 * Values from the mesh-config ConfigMap, read again at most every `ttlMs` (so an upgrade takes effect
 * without a restart); when a re-read fails the last good values stay.
 */
export function clusterValues(cluster: Cluster, namespace: string, ttlMs = 30_000, log: (line: string) => void = () => undefined): () => Promise<Values> {
  let last: { values: Values; at: number } | undefined;
  const read = async (): Promise<Values> => {
    const cm = await cluster.get('v1', 'ConfigMap', MESH_CONFIG_NAME, namespace);
    const data = (cm?.data as Record<string, string> | undefined)?.[MESH_CONFIG_KEY];
    if (data === undefined) {
      throw new MeshError(`no ConfigMap ${namespace}/${MESH_CONFIG_NAME} with key ${MESH_CONFIG_KEY}`, { hint: 'install the mesh with "mesh install", or pass --mesh-namespace' });
    }
    return valuesFromYaml(data, `ConfigMap ${namespace}/${MESH_CONFIG_NAME}`);
  };
  return async () => {
    if (last && Date.now() - last.at < ttlMs) return last.values;
    try {
      last = { values: await read(), at: Date.now() };
    } catch (err) {
      if (!last) throw err;
      log(`cannot re-read ConfigMap ${namespace}/${MESH_CONFIG_NAME} (keeping the last values): ${(err as Error).message}`);
      last.at = Date.now();
    }
    return last.values;
  };
}

/** DNS names of the controller's Service, as the webhook configuration and proxies call it. */
export function controllerDnsNames(namespace: string): string[] {
  return [`${CONTROLLER_NAME}.${namespace}.svc`, `${CONTROLLER_NAME}.${namespace}.svc.cluster.local`];
}

/**
 * The root CA from Secret ROOT_CA_SECRET (tls.crt + tls.key), or undefined when the Secret or its
 * key is absent (a Secret with only ca.crt means the root's key lives elsewhere: we cannot sign).
 */
export async function rootFromSecret(cluster: Cluster, namespace: string): Promise<{ root?: CertAndKey; why?: string }> {
  const s = await cluster.get('v1', 'Secret', ROOT_CA_SECRET, namespace);
  if (!s) return { why: `no Secret ${namespace}/${ROOT_CA_SECRET}` };
  const data = (s.data ?? {}) as Record<string, string>;
  const dec = (k: string): string | undefined => (data[k] ? Buffer.from(data[k], 'base64').toString('utf8') : undefined);
  const cert = dec('tls.crt') ?? dec('ca.crt');
  const key = dec('tls.key');
  if (!cert || !key) return { why: `Secret ${namespace}/${ROOT_CA_SECRET} has no tls.key (and tls.crt or ca.crt)` };
  return { root: hiddenKey(cert, key) };
}

/** The root CA from --ca-cert / --ca-key files. */
export async function rootFromFiles(certPath: string, keyPath: string): Promise<CertAndKey> {
  const read = async (p: string, flag: string): Promise<string> => {
    try {
      return await readFile(p, 'utf8');
    } catch (err) {
      throw inputError(`${flag} ${p}: ${(err as { code?: string }).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, 'check the path');
    }
  };
  return hiddenKey(await read(certPath, '--ca-cert'), await read(keyPath, '--ca-key'));
}

/** A CertAndKey whose key does not show in JSON or inspect output. */
function hiddenKey(certPem: string, keyPem: string): CertAndKey {
  const out = { certPem } as CertAndKey;
  Object.defineProperty(out, 'keyPem', { value: keyPem, enumerable: false });
  return out;
}

/** A TokenReviewer backed by the cluster's TokenReview API. */
export function clusterReviewer(cluster: Cluster): TokenReviewer {
  return { tokenReview: (token, audiences) => cluster.tokenReview(token, audiences) };
}

/** The reviewer of a controller without a cluster: every issuance fails, saying why. */
export const NO_REVIEWER: TokenReviewer = {
  tokenReview: () => Promise.reject(new Error('the files source has no Kubernetes API to review ServiceAccount tokens')),
};
