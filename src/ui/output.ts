import { stringify as toYaml } from 'yaml';
import type { KubeObject } from '../cluster/types.js';
import { toYamlStream } from '../manifests/render.js';
export { OUTPUT_FORMATS, parseOutputFormat, type OutputFormat } from './format.js';
export { renderTable, type Column } from './table.js';

/** Serialise data for machines: stable JSON (2-space, trailing newline) or YAML. */
export function renderData(data: unknown, format: 'json' | 'yaml'): string {
  if (format === 'json') return JSON.stringify(data, null, 2) + '\n';
  return toYaml(data, { lineWidth: 0 });
}

/**
 * An object as `kubectl get -o name` prints it: lower-case kind, the API group when there is one,
 * then the name (`deployment.apps/mesh-controller`, `service/mesh-controller`).
 */
export function objectName(o: { apiVersion: string; kind: string; metadata: { name: string } }): string {
  const group = o.apiVersion.includes('/') ? o.apiVersion.slice(0, o.apiVersion.indexOf('/')) : '';
  return `${o.kind.toLowerCase()}${group ? `.${group}` : ''}/${o.metadata.name}`;
}

/** Objects in a machine format: a v1 List for json, a `---` stream for yaml, `-o name` lines for name. */
export function renderObjects(objects: readonly { apiVersion: string; kind: string; metadata: { name: string } }[], format: 'json' | 'yaml' | 'name'): string {
  if (format === 'name') return objects.map((o) => objectName(o) + '\n').join('');
  if (format === 'json') return renderData({ apiVersion: 'v1', kind: 'List', items: objects }, 'json');
  return toYamlStream(objects as KubeObject[]);
}
