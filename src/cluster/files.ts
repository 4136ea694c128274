// TEMP files loader: a minimal stand-in with the exact signature of the inject branch's
// src/cluster/files.ts, so the controller's files source works before that branch lands.
// The integrator takes the inject branch's version of this file.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { inputError } from '../ui/errors.js';
import type { KubeObject } from './types.js';

/** Every Kubernetes object in the given files and directories (YAML or JSON, `kind: List` expanded). */
export async function loadObjects(inputs: string[], opts: { recursive?: boolean } = {}): Promise<{ object: KubeObject; source: string; line: number }[]> {
  const out: { object: KubeObject; source: string; line: number }[] = [];
  const files: string[] = [];
  const walk = async (p: string, top: boolean): Promise<void> => {
    let st;
    try {
      st = await stat(p);
    } catch {
      throw inputError(`${p}: no such file or directory`, 'check the path');
    }
    if (st.isDirectory()) {
      if (!top && !opts.recursive) return;
      for (const name of (await readdir(p)).sort()) {
        const full = join(p, name);
        if ((await stat(full)).isDirectory()) await walk(full, false);
        else if (/\.(ya?ml|json)$/i.test(name)) files.push(full);
      }
    } else files.push(p);
  };
  for (const i of inputs) await walk(i, true);
  for (const f of files) {
    const text = await readFile(f, 'utf8');
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length) throw inputError(`${f}: ${doc.errors[0]?.message ?? 'invalid YAML'}`, 'fix the YAML');
      const v = doc.toJS() as unknown;
      const line = text.slice(0, doc.range[0]).split('\n').length;
      if (!v || typeof v !== 'object') continue;
      const o = v as KubeObject;
      const items = o.kind === 'List' && Array.isArray(o.items) ? (o.items as KubeObject[]) : [o];
      for (const object of items) {
        if (!object?.kind || !object.apiVersion || !object.metadata?.name) throw inputError(`${f}:${line}: not a Kubernetes object (apiVersion, kind and metadata.name are required)`, 'fix the manifest');
        out.push({ object, source: f, line });
      }
    }
  }
  return out;
}
