import { readFile } from 'node:fs/promises';
import { ROOT_CA_SECRET } from '../constants.js';
import type { Cluster } from '../cluster/types.js';
import type { CaMaterial } from '../manifests/render.js';
import { inputError, MeshError } from '../errors.js';

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

/**
 * Read and validate --ca-cert/--ca-key (both or neither); undefined when neither is given.
 * Validation (src/pki validateRoot): a CA certificate allowed to sign, the key matching it, valid
 * now. Problems that do not stop the mesh yet (expiring soon) are returned as warnings.
 */
export async function loadSuppliedCa(certPath: string | undefined, keyPath: string | undefined, warn: (line: string) => void = () => {}): Promise<CaMaterial | undefined> {
  if (!certPath && !keyPath) return undefined;
  if (!certPath || !keyPath) throw inputError(`${certPath ? '--ca-key' : '--ca-cert'} is missing`, '--ca-cert and --ca-key go together');
  const [certPem, keyPem] = await Promise.all([readPem(certPath, '--ca-cert'), readPem(keyPath, '--ca-key')]);
  const { validateRoot } = await import('../pki/index.js');
  const info = validateRoot(certPem, keyPem, { certSource: `--ca-cert ${certPath}`, keySource: `--ca-key ${keyPath}` });
  for (const w of info.warnings) warn(`warning: ${w}`);
  return { certPem, keyPem };
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

/** Generate a new root for `trustDomain` valid for `ttl` (Go duration), with src/pki. */
export async function generateCa(trustDomain: string, ttl: string): Promise<CaMaterial> {
  const { generateRoot } = await import('../pki/index.js');
  const root = await generateRoot({ trustDomain, ttl });
  // keyPem is non-enumerable on purpose (it must not leak into logs): copy it explicitly.
  return { certPem: root.certPem, keyPem: root.keyPem };
}

/**
 * A root replacing `current` (`mesh upgrade --ca-cert/--ca-key`): the new root signs from now on;
 * the trust bundle keeps the current root beside it while the current root is still valid, so
 * workloads holding certificates it signed keep being trusted until they rotate, and drops it once
 * it has expired (nothing it signed can still be valid). `current` may be expired, broken or absent:
 * it is only read, never validated. Returns the material and a line saying what became of the old root.
 */
export async function replacementCa(supplied: CaMaterial, current: CaMaterial | undefined, now: Date): Promise<{ ca: CaMaterial; note: string }> {
  const [{ X509Certificate }, { pemBlocks }] = await Promise.all([import('node:crypto'), import('../pki/pem.js')]);
  const blocks = pemBlocks(current?.certPem ?? '', 'CERTIFICATE');
  let old: InstanceType<typeof X509Certificate> | undefined;
  try {
    old = blocks.length ? new X509Certificate(blocks[blocks.length - 1]!) : undefined;
  } catch {
    old = undefined;
  }
  const fresh = new X509Certificate(supplied.certPem);
  if (!old) return { ca: supplied, note: 'the root CA is replaced (the old one could not be read: it is not kept in the trust bundle)' };
  if (old.fingerprint256 === fresh.fingerprint256) return { ca: supplied, note: 'the root CA is unchanged (--ca-cert is the installed root)' };
  const until = new Date(old.validTo);
  if (until.getTime() <= now.getTime()) return { ca: supplied, note: `the root CA is replaced; the old root expired on ${until.toISOString()} and is dropped from the trust bundle` };
  const bundlePem = `${supplied.certPem.trim()}\n${old.toString().trim()}\n`;
  return { ca: { ...supplied, bundlePem }, note: `the root CA is replaced; the old root stays in the trust bundle until it expires on ${until.toISOString()} (run "mesh upgrade" again after that to drop it)` };
}
