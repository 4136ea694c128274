// TEMP files loader: a minimal implementation of inject's loadObjects signature so `mesh check -f`
// works before the inject branch lands. The integrator takes inject's src/cluster/files.ts.
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import { inputError } from '../ui/errors.js';
import type { KubeObject } from './types.js';

const MANIFEST_EXT = /\.(ya?ml|json)$/i;

async function expand(input: string, recursive: boolean, top: boolean): Promise<string[]> {
  if (input === '-') return ['-'];
  let st;
  try {
    st = await stat(input);
  } catch {
    throw inputError(`${input}: no such file or directory`, 'check the path given to -f');
  }
  if (!st.isDirectory()) return [input];
  if (!top && !recursive) return [];
  const entries = (await readdir(input)).sort();
  const out: string[] = [];
  for (const e of entries) {
    const p = join(input, e);
    const s = await stat(p);
    if (s.isDirectory()) {
      if (recursive) out.push(...(await expand(p, true, false)));
    } else if (MANIFEST_EXT.test(e)) out.push(p);
  }
  return out;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Read Kubernetes objects from files, directories (with `recursive`, subdirectories too) and
 * stdin ('-'), with the 1-based line where each object's document starts. `kind: List` items are
 * returned one by one. Throws inputError (exit 2) naming the file and line on bad YAML.
 */
export async function loadObjects(inputs: string[], opts: { recursive?: boolean } = {}): Promise<{ object: KubeObject; source: string; line: number }[]> {
  const out: { object: KubeObject; source: string; line: number }[] = [];
  for (const input of inputs) {
    for (const file of await expand(input, opts.recursive === true, true)) {
      const text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
      const source = file === '-' ? '<stdin>' : file;
      const lc = new LineCounter();
      const docs = parseAllDocuments(text, { lineCounter: lc });
      if (!Array.isArray(docs)) continue;
      for (const doc of docs) {
        if (doc.errors.length) {
          const e = doc.errors[0]!;
          const pos = lc.linePos(e.pos[0]);
          throw inputError(`${source}:${pos.line}: invalid YAML: ${e.message.split('\n')[0]}`, 'fix the document or remove it from the input');
        }
        const value: unknown = doc.toJS();
        if (value === null || value === undefined) continue;
        const start = doc.contents?.range?.[0] ?? 0;
        const line = lc.linePos(start).line;
        if (typeof value !== 'object' || Array.isArray(value) || typeof (value as KubeObject).kind !== 'string') {
          throw inputError(`${source}:${line}: not a Kubernetes object (no kind)`, 'every document needs apiVersion, kind and metadata.name');
        }
        const obj = value as KubeObject;
        if (obj.kind.endsWith('List') && Array.isArray(obj.items)) {
          for (const item of obj.items as KubeObject[]) out.push({ object: item, source, line });
          continue;
        }
        if (typeof obj.metadata?.name !== 'string') throw inputError(`${source}:${line}: ${obj.kind} has no metadata.name`, 'every document needs apiVersion, kind and metadata.name');
        out.push({ object: obj, source, line });
      }
    }
  }
  return out;
}
