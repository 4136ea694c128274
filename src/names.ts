/**
 * Kubernetes object names, as the API server validates them (apimachinery's validation): most
 * kinds take a DNS-1123 subdomain, namespaces a DNS-1123 label, Services a DNS-1035 label.
 * A leaf: imports nothing, so inject, the analyzers and values validation share one definition.
 */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Whether `s` is a DNS-1123 label: at most 63 of a-z, 0-9 and '-', starting and ending alphanumeric. */
export function isDns1123Label(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}

/** Whether `s` is a DNS-1123 subdomain: at most 253 characters, DNS-1123 labels joined by '.'. */
export function isDns1123Subdomain(s: string): boolean {
  return s.length <= 253 && DNS1123_SUBDOMAIN.test(s);
}

/** Kinds whose names are DNS-1035 labels (they become DNS names and environment variables). */
const LABEL_1035_KINDS = new Set(['Service']);

/**
 * Why `name` cannot be the name of an object of `kind`, or undefined when it can. The reason is one
 * clause, e.g. `must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', ...`.
 */
export function nameProblem(kind: string, name: string): string | undefined {
  if (kind === 'Namespace') return isDns1123Label(name) ? undefined : "must be a DNS-1123 label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit";
  if (LABEL_1035_KINDS.has(kind)) return name.length <= 63 && DNS1035_LABEL.test(name) ? undefined : "must be a DNS-1035 label: at most 63 lowercase letters, digits and '-', starting with a letter and ending with a letter or digit";
  return isDns1123Subdomain(name) ? undefined : "must be a DNS-1123 subdomain: at most 253 lowercase letters, digits, '-' and '.', each dot-separated part starting and ending with a letter or digit";
}

/** Why `ns` cannot be a namespace name, or undefined when it can. */
export function namespaceProblem(ns: string): string | undefined {
  return nameProblem('Namespace', ns);
}
