import { parse } from 'yaml';
import { MESH_CONFIG_KEY, MESH_CONFIG_NAME } from '../constants.js';
import type { Cluster, KubeObject } from '../cluster/types.js';
import { CONFIG_KEYS } from '../manifests/render.js';
import type { Values, ValuesOverride } from '../manifests/values.js';
import { MeshError } from '../errors.js';

/** ConfigMap where upgrade keeps the values and version it replaced, for `mesh upgrade --rollback`. */
export const PREVIOUS_CONFIG_NAME = `${MESH_CONFIG_NAME}-previous`;

/** What an install recorded in the cluster (mesh-config or mesh-config-previous). */
export interface InstalledState {
  version: string;
  values: Values;
  profile: string;
  overrides: ValuesOverride;
  /** The ConfigMap's data as stored, to copy into mesh-config-previous. */
  data: Record<string, string>;
}

/** Parse a mesh-config-shaped ConfigMap; errors name the object and key. */
export function parseState(cm: KubeObject): InstalledState {
  const data = (cm.data ?? {}) as Record<string, string>;
  const ref = `ConfigMap ${cm.metadata.namespace}/${cm.metadata.name}`;
  const yaml = (key: string): unknown => {
    try {
      return parse(data[key] ?? '') as unknown;
    } catch (err) {
      throw new MeshError(`${ref}: data["${key}"] is not valid YAML`, { hint: 'it was edited by hand? restore it, or re-install with mesh install', cause: err });
    }
  };
  const values = yaml(MESH_CONFIG_KEY);
  if (values === null || typeof values !== 'object') throw new MeshError(`${ref} has no data["${MESH_CONFIG_KEY}"]`, { hint: 'was the mesh installed with mesh install?' });
  const overrides = (yaml(CONFIG_KEYS.overrides) ?? {}) as ValuesOverride;
  return {
    version: data[CONFIG_KEYS.version] ?? cm.metadata.labels?.['app.kubernetes.io/version'] ?? '0.0.0',
    values: values as Values,
    profile: data[CONFIG_KEYS.profile] ?? 'default',
    overrides,
    data,
  };
}

/** The installed mesh's state, or undefined when mesh-config does not exist in `namespace`. */
export async function readState(cluster: Cluster, namespace: string, name: string = MESH_CONFIG_NAME): Promise<InstalledState | undefined> {
  const cm = await cluster.get('v1', 'ConfigMap', name, namespace);
  return cm ? parseState(cm) : undefined;
}
