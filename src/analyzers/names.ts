import { nameProblem, namespaceProblem } from '../names.js';
import { CODES } from './codes.js';
import { refOf, where, type AnalysisIndex } from './lookup.js';
import type { Analyzer, Finding } from './types.js';

/**
 * Object names the API server would refuse (MSH0017): `kubectl apply` fails on them, and `mesh
 * inject` refuses such workloads, so `check -f` says so before either runs.
 */
export const objectNames: Analyzer<AnalysisIndex> = {
  name: 'names',
  codes: [CODES.nameInvalid],
  analyze(index) {
    const out: Finding[] = [];
    const c = CODES.nameInvalid;
    for (const src of index.objects) {
      const md = src.object.metadata as Record<string, unknown> | undefined;
      const name = md?.name;
      const ns = md?.namespace;
      const problems: string[] = [];
      if (typeof name === 'string') {
        const p = nameProblem(src.object.kind, name);
        if (p) problems.push(`name "${name}" ${p}`);
      }
      if (typeof ns === 'string') {
        const p = namespaceProblem(ns);
        if (p) problems.push(`namespace "${ns}" ${p}`);
      }
      for (const p of problems) out.push({ code: c.code, severity: c.severity, message: `${src.object.kind} ${p}`, resource: refOf(src.object), ...where(src) });
    }
    return out;
  },
};
