import { ALL_CODES } from '../../analyzers/codes.js';
import type { FindingSeverity } from '../../analyzers/types.js';
import type { CheckReport } from '../../checks/report.js';

type Level = 'error' | 'warning' | 'note';

function level(s: FindingSeverity): Level {
  return s === 'info' ? 'note' : s;
}

interface SarifRule {
  id: string;
  name: string;
  shortDescription: { text: string };
  helpUri: string;
  help?: { text: string };
  defaultConfiguration: { level: Level };
}

function ruleName(title: string): string {
  return title
    .replace(/[^A-Za-z0-9 ]/g, ' ')
    .split(/\s+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
}

/**
 * SARIF 2.1.0 for code-scanning annotations. Every finding code is a rule; each finding is a
 * result with a physical location (file and line) when it came from -f, and always a logical
 * location `kind/namespace/name`. Failed or warning checks (live) are results of rules named by
 * check id, with no file.
 */
export function renderSarif(report: CheckReport, docsBase = 'https://github.com/mesh-dev/mesh/blob/main/docs/checks.md'): string {
  const rules: SarifRule[] = ALL_CODES.map((c) => ({
    id: c.code,
    name: ruleName(c.title),
    shortDescription: { text: c.title },
    helpUri: `${docsBase}#${c.code.toLowerCase()}`,
    help: { text: c.hint },
    defaultConfiguration: { level: level(c.severity) },
  }));
  const results: unknown[] = [];
  for (const f of report.findings) {
    const fq = `${f.resource.kind}/${f.resource.namespace ? `${f.resource.namespace}/` : ''}${f.resource.name}`;
    const loc: Record<string, unknown> = { logicalLocations: [{ fullyQualifiedName: fq, kind: 'resource' }] };
    if (f.file) loc.physicalLocation = { artifactLocation: { uri: f.file.replace(/\\/g, '/') }, region: { startLine: f.line ?? 1 } };
    results.push({ ruleId: f.code, ruleIndex: rules.findIndex((r) => r.id === f.code), level: level(f.severity), message: { text: f.message }, locations: [loc] });
  }
  for (const r of report.checks) {
    if (r.status !== 'fail' && r.status !== 'warn') continue;
    let idx = rules.findIndex((x) => x.id === r.id);
    if (idx < 0) {
      rules.push({ id: r.id, name: ruleName(r.id.replace(/[.-]/g, ' ')), shortDescription: { text: r.description }, helpUri: `${docsBase}#${r.docs.split('#')[1] ?? ''}`, defaultConfiguration: { level: r.severity } });
      idx = rules.length - 1;
    }
    results.push({ ruleId: r.id, ruleIndex: idx, level: r.status === 'fail' ? 'error' : 'warning', message: { text: `${r.description}: ${r.message}${r.hint ? ` (hint: ${r.hint})` : ''}` }, locations: [{ logicalLocations: [{ fullyQualifiedName: r.id, kind: 'check' }] }] });
  }
  const doc = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'mesh check', version: report.version, informationUri: docsBase, rules } },
        invocations: [{ executionSuccessful: true }],
        results,
      },
    ],
  };
  return JSON.stringify(doc, null, 2) + '\n';
}
