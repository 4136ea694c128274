import { diffFromDefaults, findProfile, PROFILES, resolveValues } from '../manifests/values.js';
import type { Ui } from '../ui/context.js';
import { ExitCode } from '../errors.js';
import { renderData, renderTable } from '../ui/output.js';

/** `mesh profile list`: name and description of each built-in profile (-o json: [{name, description}]). */
export function runProfileList(output: 'table' | 'wide' | 'json' | 'yaml', ui: Ui): number {
  const rows = PROFILES.map((p) => ({ name: p.name, description: p.description }));
  if (output === 'json' || output === 'yaml') ui.out.write(renderData(rows, output));
  else ui.out.write(renderTable(rows, [{ header: 'name', value: (r) => r.name }, { header: 'description', value: (r) => r.description }]));
  return ExitCode.Ok;
}

/** `mesh profile show NAME`: the profile's resolved values (or, with diff, only what it changes). */
export function runProfileShow(name: string, opts: { output: 'yaml' | 'json'; diff: boolean }, ui: Ui): number {
  const profile = findProfile(name);
  const values = resolveValues({ profile: profile.name });
  ui.out.write(renderData(opts.diff ? diffFromDefaults(values) : values, opts.output));
  return ExitCode.Ok;
}
