import { readStdin, readValuesFiles } from '../cluster/values-files.js';
import { resolveValues, type Values } from '../manifests/values.js';

/** What the -f/--set/--profile flags of install, upgrade and manifest collect. */
export interface ValuesFlags {
  profile?: string;
  /** Values files in the order given ("-" reads stdin). */
  files?: string[];
  sets?: string[];
}

/** Read the values files and resolve profile + files + --set into Values (exit 2 on any bad input). */
export async function loadValues(flags: ValuesFlags, stdin: () => Promise<string> = readStdin): Promise<Values> {
  return resolveValues({ profile: flags.profile, files: await readValuesFiles(flags.files ?? [], stdin), sets: flags.sets });
}
