import { readFileSync } from 'node:fs';
import { TEMPLATE_FILES, type Templates } from '../manifests/render.js';

/** templates/ beside src/ and dist/ (both are one level below the package root). */
const TEMPLATE_DIR = new URL('../../templates/', import.meta.url);
let loaded: Templates | undefined;

/**
 * The shipped templates (templates/*.yaml) as text, read once per process: the I/O half of
 * renderManifests. The returned object is shared and must not be altered.
 */
export function loadTemplates(): Templates {
  loaded ??= Object.freeze(Object.fromEntries(TEMPLATE_FILES.map((f) => [f, readFileSync(new URL(f, TEMPLATE_DIR), 'utf8')])) as Record<(typeof TEMPLATE_FILES)[number], string>);
  return loaded;
}
