import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { inputError } from '../errors.js';
import { currentStdin } from '../util/cli-streams.js';

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
  if (path === '-') {
    try {
      return await stdin();
    } catch (err) {
      // e.g. EBADF when the caller closed stdin (`mesh install --values - <&-`).
      const code = (err as { code?: string }).code;
      throw inputError(`cannot read values from stdin (--values -): ${code ?? (err as Error).message}`, 'pipe the values in (--values - < values.yaml) or pass a file path', err);
    }
  }
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw inputError(`cannot read values file ${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`, 'check the path', err);
  }
}

/** All of `stream` (default process.stdin) as text. */
export async function readStdin(stream: AsyncIterable<unknown> = currentStdin() as AsyncIterable<unknown>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Values deeper than this are refused: the real ones are a few levels deep, and merging recurses. */
export const MAX_VALUES_DEPTH = 32;

/** The key path of the first value nested deeper than `max` levels, or undefined. */
function tooDeep(v: unknown, max: number): string | undefined {
  const stack: { v: unknown; path: string; depth: number }[] = [{ v, path: '', depth: 0 }];
  while (stack.length > 0) {
    const x = stack.pop()!;
    if (typeof x.v !== 'object' || x.v === null) continue;
    if (x.depth >= max) return x.path || '(top)';
    for (const [k, c] of Object.entries(x.v)) stack.push({ v: c, path: Array.isArray(x.v) ? `${x.path}[${k}]` : x.path ? `${x.path}.${k}` : k, depth: x.depth + 1 });
  }
  return undefined;
}

/**
 * The `yaml` package (CommonJS, 72 files, about 35 ms to load), loaded when a values file is read:
 * `mesh inject` without --values never needs it.
 */
let yamlLib: typeof import('yaml') | undefined;
function loadYaml(): typeof import('yaml') {
  return (yamlLib ??= createRequire(import.meta.url)('yaml') as typeof import('yaml'));
}

/** Parse values YAML text; `source` (a path, or e.g. a ConfigMap) names it in errors (exit 2, with the line). */
export function parseValuesYaml(text: string, source: string): unknown {
  let v: unknown;
  try {
    v = loadYaml().parse(text) as unknown;
  } catch (err) {
    const pos = (err as { linePos?: { line: number }[] }).linePos;
    const line = pos?.[0]?.line;
    if ((err as { code?: string }).code === 'MULTIPLE_DOCS') {
      throw inputError(`${source}: holds more than one YAML document (the next starts at line ${line ?? '?'}); a values file is one mapping`, 'merge the documents into one, or pass each as its own --values file', err);
    }
    if (err instanceof RangeError || (err as { code?: string }).code === 'RESOURCE_EXHAUSTION') throw inputError(`${source}: values nested too deeply to read (at most ${MAX_VALUES_DEPTH} levels are allowed)`, 'values are a few levels of keys: check the file is the values file you meant', err);
    throw inputError(`${source}${line ? `:${line}` : ''}: not valid YAML: ${(err as Error).message.split('\n')[0]}`, 'fix the YAML syntax', err);
  }
  const deep = tooDeep(v, MAX_VALUES_DEPTH);
  if (deep !== undefined) throw inputError(`${source}: values nested deeper than ${MAX_VALUES_DEPTH} levels (at ${deep.length > 80 ? deep.slice(0, 80) + '...' : deep})`, 'values are a few levels of keys: check the file is the values file you meant');
  return v;
}

/** Read and parse values files (YAML), in order, each named by its path for errors ("-" reads `stdin`). */
export async function readValuesFiles(paths: readonly string[], stdin: () => Promise<string> = readStdin): Promise<ValuesFile[]> {
  const files: ValuesFile[] = [];
  for (const path of paths) files.push({ source: path, values: parseValuesYaml(await readSource(path, stdin), path) });
  return files;
}
