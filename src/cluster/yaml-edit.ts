import { isMap, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';

/**
 * Edits to a YAML document that keep what a person wrote: comments, indentation, key order, flow
 * or block style and quoting of everything that did not change (`mesh inject --in-place`). Uses
 * the `yaml` package's Document API; only the nodes whose values changed are replaced.
 */

type Plain = null | boolean | number | string | Plain[] | { [k: string]: Plain };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The `name` of a sequence item, when it is a map that has one (containers, volumes, ports). */
function itemName(v: unknown): string | undefined {
  return isRecord(v) && typeof v.name === 'string' ? v.name : undefined;
}

/** Make `node` hold `next`, reusing (and so keeping the comments of) every node whose value is unchanged. */
function reconcile(doc: Document, node: unknown, next: unknown): Node {
  if (isMap(node) && isRecord(next)) {
    for (const pair of [...node.items]) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      if (!(key in next)) node.delete(pair.key);
    }
    for (const [k, v] of Object.entries(next)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === k);
      if (pair) pair.value = reconcile(doc, pair.value, v);
      else node.set(doc.createNode(k), doc.createNode(v));
    }
    return node;
  }
  if (isSeq(node) && Array.isArray(next)) {
    // Items are matched by name where they have one, so removing the proxy container keeps the app's comments.
    const old = [...node.items];
    const byName = new Map<string, unknown>();
    for (const it of old) {
      const n = itemName(isMap(it) ? it.toJSON() : undefined);
      if (n !== undefined) byName.set(n, it);
    }
    node.items = next.map((v, i) => {
      const n = itemName(v);
      const match = n !== undefined ? byName.get(n) : byName.size === 0 ? old[i] : undefined;
      return match !== undefined ? reconcile(doc, match, v) : doc.createNode(v);
    });
    return node;
  }
  if (isScalar(node) && (next === null || typeof next !== 'object') && node.value === next) return node;
  return doc.createNode(next as Plain);
}

/** Indentation of the first nested line of `raw` (2 when there is none). */
export function detectIndent(raw: string): number {
  const m = /^[^\s#-][^\n]*:[ \t]*(?:#[^\n]*)?\n(?:[ \t]*(?:#[^\n]*)?\n)*( +)\S/m.exec(raw);
  return m ? m[1]!.length : 2;
}

/** Whether sequences under a key are indented (`key:\n  - x`) rather than level with it (kubectl style). */
export function detectIndentSeq(raw: string): boolean {
  const m = /^( *)[^\s#-][^\n]*:[ \t]*\n( *)- /m.exec(raw);
  return m ? m[2]!.length > m[1]!.length : false;
}

/**
 * `raw` (one YAML document) edited to hold `next`, keeping comments, key order, styles and
 * indentation of what did not change. Returns the text, ending in a newline.
 */
export function editYamlDocument(raw: string, next: unknown): string {
  const doc = parseDocument(raw, { keepSourceTokens: false });
  doc.contents = reconcile(doc, doc.contents, next) as typeof doc.contents;
  return doc.toString({ indent: detectIndent(raw), indentSeq: detectIndentSeq(raw), lineWidth: 0, flowCollectionPadding: false });
}
