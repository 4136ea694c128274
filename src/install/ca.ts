import { readFile } from 'node:fs/promises';
import { ROOT_CA_SECRET } from '../constants.js';
import type { Cluster } from '../cluster/types.js';
import type { CaMaterial } from '../manifests/render.js';
import { inputError, MeshError } from '../ui/errors.js';

/**
 * Where the root CA comes from at install: the cluster's existing Secret (never regenerated), the
 * user's --ca-cert/--ca-key (validated), or a new root generated at apply time.
 */

async function readPem(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw inputError(`${flag} ${path}: ${(err as { code?: string }).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, 'check the path', err);
  }
}

/** Read and validate --ca-cert/--ca-key (both or neither); undefined when neither is given. */
export async function loadSuppliedCa(certPath: string | undefined, keyPath: string | undefined): Promise<CaMaterial | undefined> {
  if (!certPath && !keyPath) return undefined;
  if (!certPath || !keyPath) throw inputError(`${certPath ? '--ca-key' : '--ca-cert'} is missing`, '--ca-cert and --ca-key go together');
  const [certPem, keyPem] = await Promise.all([readPem(certPath, '--ca-cert'), readPem(keyPath, '--ca-key')]);
  await validateCa({ certPem, keyPem }, `--ca-cert ${certPath}`);
  return { certPem, keyPem };
}

/** Validate root material (CA flag, key match, expiry); throws an input error naming `source`. */
export async function validateCa(ca: CaMaterial, source: string): Promise<void> {
  const pki = await loadPki();
  try {
    await pki.validateRoot(ca.certPem, ca.keyPem);
  } catch (err) {
    if (err instanceof MeshError) throw inputError(`${source}: ${err.message}`, err.hint ?? 'supply a CA certificate (basicConstraints CA:TRUE) and its private key', err);
    throw inputError(`${source}: ${(err as Error).message}`, 'supply a CA certificate (basicConstraints CA:TRUE) and its private key', err);
  }
}

/** The root CA stored in the cluster, or undefined when the Secret does not exist. */
export async function readRootCa(cluster: Cluster, namespace: string): Promise<CaMaterial | undefined> {
  const s = await cluster.get('v1', 'Secret', ROOT_CA_SECRET, namespace);
  if (!s) return undefined;
  const data = (s.data ?? {}) as Record<string, string>;
  const dec = (k: string) => Buffer.from(data[k] ?? '', 'base64').toString('utf8');
  const certPem = dec('tls.crt');
  const keyPem = dec('tls.key');
  if (!certPem || !keyPem) {
    throw new MeshError(`Secret ${namespace}/${ROOT_CA_SECRET} exists but has no tls.crt or tls.key`, { hint: `fix or delete the Secret (kubectl -n ${namespace} delete secret ${ROOT_CA_SECRET}) and re-run; workloads will need new certificates` });
  }
  return { certPem, keyPem };
}

/** Generate a new root for `trustDomain` valid for `ttl` (Go duration). */
export async function generateCa(trustDomain: string, ttl: string): Promise<CaMaterial> {
  const pki = await loadPki();
  return pki.generateRoot({ trustDomain, ttl });
}

interface PkiModule {
  validateRoot(certPem: string, keyPem: string): Promise<void> | void;
  generateRoot(opts: { trustDomain: string; ttl: string }): Promise<CaMaterial>;
}

async function loadPki(): Promise<PkiModule> {
  throw new MeshError('the CA library (src/pki) is not merged into this build yet', { hint: 'install without --ca-cert/--ca-key needs src/pki' });
}
