// Kubernetes label selectors (metav1.LabelSelector and the plain map form), evaluated one way for
// the whole tree: checks, status, the dashboard, the model, the analyzers and inject's explanation.

/** A Kubernetes LabelSelector: matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist). */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** One requirement of a selector; a matchLabels entry is `key In [value]`. */
export interface LabelRequirement {
  key: string;
  operator: string;
  values: string[];
  /** Written as a matchLabels entry (`key=value`). */
  matchLabel?: true;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/**
 * The requirements of a selector read from any object. A malformed entry (a non-string label
 * value, an expression that is not an object) becomes a requirement nothing meets, never none.
 */
export function labelRequirements(selector: unknown): LabelRequirement[] {
  if (!isRecord(selector)) return [];
  const out: LabelRequirement[] = [];
  if (isRecord(selector.matchLabels)) {
    for (const [key, v] of Object.entries(selector.matchLabels)) out.push({ key, operator: 'In', values: typeof v === 'string' ? [v] : [], matchLabel: true });
  }
  for (const e of Array.isArray(selector.matchExpressions) ? selector.matchExpressions : []) {
    out.push(isRecord(e) ? { key: typeof e.key === 'string' ? e.key : '', operator: String(e.operator), values: strings(e.values) } : { key: '', operator: 'invalid', values: [] });
  }
  return out;
}

/** Whether `labels` meet one requirement; an operator Kubernetes does not know is never met. */
export function requirementMet(r: LabelRequirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, r.key);
  switch (r.operator) {
    case 'In':
      return has && r.values.includes(labels[r.key]!);
    case 'NotIn':
      return !has || !r.values.includes(labels[r.key]!);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    default:
      return false;
  }
}

/**
 * Whether a LabelSelector selects `labels`. An absent selector (not an object) and an empty one
 * select everything, as for admission webhooks, NetworkPolicies and workload selectors.
 */
export function labelSelectorMatches(selector: unknown, labels: Readonly<Record<string, string>>): boolean {
  return labelRequirements(selector).every((r) => requirementMet(r, labels));
}

/** Whether a plain `key: value` selector (a Service's, a policy's) selects `labels`; an absent or empty one selects nothing. */
export function mapSelects(selector: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!selector) return false;
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}
