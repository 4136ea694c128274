import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { inputError } from '../errors.js';
import { resolveValues, type Values, type ValuesInput } from './values.js';

/** What the -f/--set/--profile flags of install, upgrade and manifest collect. */
export interface ValuesFlags {
  profile?: string;
  /** Values files in the order given ("-" reads stdin). */
  files?: string[];
  sets?: string[];
}

async function readSource(path: string, stdin: () => Promise<string>): Promise<string> {
  if (path === '-') return stdin();
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw inputError(`cannot read values file ${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`, 'check the path given to -f', err);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Read the values files and resolve profile + files + --set into Values (exit 2 on any bad input). */
export async function loadValues(flags: ValuesFlags, stdin: () => Promise<string> = readStdin): Promise<Values> {
  return resolveValues({ profile: flags.profile, files: await readValuesFiles(flags.files ?? [], stdin), sets: flags.sets });
}

/** Read and parse values files (YAML), in order, each named by its path for errors. */
export async function readValuesFiles(paths: readonly string[], stdin: () => Promise<string> = readStdin): Promise<NonNullable<ValuesInput['files']>> {
  const files: NonNullable<ValuesInput['files']> = [];
  for (const path of paths) {
    const text = await readSource(path, stdin);
    let values: unknown;
    try {
      values = parse(text);
    } catch (err) {
      const line = (err as { linePos?: { line: number }[] }).linePos?.[0]?.line;
      throw inputError(`${path}${line ? `:${line}` : ''}: not valid YAML: ${(err as Error).message.split('\n')[0]}`, 'fix the YAML syntax', err);
    }
    files.push({ source: path, values });
  }
  return files;
}
