import { randomBytes } from 'node:crypto';
import { DEBUG_TOKEN_HEADER, DEBUG_TOKEN_SECRET } from '../constants.js';
import { ConflictError } from './conflict.js';
import type { Cluster, KubeObject } from './types.js';

/**
 * The token of the controller's /debug endpoints, kept in Secret DEBUG_TOKEN_SECRET (key `token`)
 * of the mesh namespace: whoever may read that Secret may read /debug/syncz and config_dump, which
 * is how `mesh proxy-status` gets in through the API server's pod proxy (it does not pass the
 * caller's own credentials on).
 */

function tokenOf(secret: KubeObject | undefined): string | undefined {
  const data = (secret as { data?: Record<string, string> } | undefined)?.data?.token;
  const token = data ? Buffer.from(data, 'base64').toString('utf8') : '';
  return token ? token : undefined;
}

/** The token, or undefined when the Secret is missing or cannot be read (403): the caller goes without. */
export async function readDebugToken(cluster: Cluster, namespace: string): Promise<string | undefined> {
  try {
    return tokenOf(await cluster.get('v1', 'Secret', DEBUG_TOKEN_SECRET, namespace));
  } catch {
    return undefined;
  }
}

/** The token, creating the Secret with a random one when it does not exist (replicas racing to create it all end with the winner's). */
export async function ensureDebugToken(cluster: Cluster, namespace: string): Promise<string> {
  const existing = tokenOf(await cluster.get('v1', 'Secret', DEBUG_TOKEN_SECRET, namespace));
  if (existing) return existing;
  const token = randomBytes(32).toString('base64url');
  try {
    await cluster.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: DEBUG_TOKEN_SECRET, namespace }, type: 'Opaque', data: { token: Buffer.from(token).toString('base64') } } as KubeObject);
    return token;
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err;
    const won = tokenOf(await cluster.get('v1', 'Secret', DEBUG_TOKEN_SECRET, namespace));
    if (!won) throw err;
    return won;
  }
}

/** The headers that open the controller's /debug endpoints (none when the token cannot be read: loopback-only then answers 401). */
export async function debugHeaders(cluster: Cluster, namespace: string): Promise<Record<string, string>> {
  const token = await readDebugToken(cluster, namespace);
  return token ? { [DEBUG_TOKEN_HEADER]: token } : {};
}
