import Table from 'cli-table3';
import { stringify as toYaml } from 'yaml';
import type { KubeObject } from '../cluster/types.js';
import { toYamlStream } from '../manifests/render.js';
export { OUTPUT_FORMATS, parseOutputFormat, type OutputFormat } from './format.js';

/** A table column: a header and how to read a row. `wide` columns show only with -o wide. */
export interface Column<T> {
  header: string;
  value: (row: T) => string | number;
  wide?: boolean;
}

/**
 * Render rows the way kubectl does: upper-case headers, no borders, columns padded with three spaces.
 * With no rows, returns `emptyMessage` (kubectl: "No resources found").
 */
export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[], opts: { wide?: boolean; emptyMessage?: string } = {}): string {
  if (rows.length === 0) return (opts.emptyMessage ?? 'No resources found.') + '\n';
  const cols = columns.filter((c) => opts.wide || !c.wide);
  const table = new Table({
    head: cols.map((c) => c.header.toUpperCase()),
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '',
      'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 3 },
  });
  for (const row of rows) table.push(cols.map((c) => String(c.value(row))));
  return (
    table
      .toString()
      .split('\n')
      .map((l) => l.trimEnd())
      .join('\n') + '\n'
  );
}

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
