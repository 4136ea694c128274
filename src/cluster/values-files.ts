import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { inputError } from '../errors.js';

/**
 * The one reader of values files (install, upgrade, manifest, inject --values, controller --values):
 * the I/O side of src/manifests/values.ts, which only resolves the parsed data.
 */

/** One values file, read and parsed: what resolveValues takes in `files` (`source` names it in errors). */
export interface ValuesFile {
  source: string;
  values: unknown;
}

async function readSource(path: string, stdin: () => Promise<string>): Promise<string> {
  if (path === '-') return stdin();
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw inputError(`cannot read values file ${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`, 'check the path', err);
  }
}

/** All of `stream` (default process.stdin) as text. */
export async function readStdin(stream: AsyncIterable<unknown> = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Parse values YAML text; `source` (a path, or e.g. a ConfigMap) names it in errors (exit 2, with the line). */
export function parseValuesYaml(text: string, source: string): unknown {
  try {
    return parse(text) as unknown;
  } catch (err) {
    const line = (err as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    throw inputError(`${source}${line ? `:${line}` : ''}: not valid YAML: ${(err as Error).message.split('\n')[0]}`, 'fix the YAML syntax', err);
  }
}

/** Read and parse values files (YAML), in order, each named by its path for errors ("-" reads `stdin`). */
export async function readValuesFiles(paths: readonly string[], stdin: () => Promise<string> = readStdin): Promise<ValuesFile[]> {
  const files: ValuesFile[] = [];
  for (const path of paths) files.push({ source: path, values: parseValuesYaml(await readSource(path, stdin), path) });
  return files;
}
