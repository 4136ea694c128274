import type { KubeObject } from './types.js';

/** How many objects one list request asks for (kubectl's --chunk-size default). */
export const LIST_PAGE_SIZE = 500;

/** One page of a list answer: its items and, when more follow, the token that continues it. */
export interface ListPage {
  items?: KubeObject[];
  metadata?: { continue?: string };
}

/**
 * The continue token of a list answer read from its head, without parsing the page: the API server
 * writes `metadata` before `items` (Go's field order of a List). `null` when no token is there (the
 * last page); undefined when the head does not tell (the page must be parsed to know).
 */
export function peekContinue(text: string): string | null | undefined {
  const items = text.indexOf('"items"');
  const meta = text.indexOf('"metadata"');
  if (items < 0 || meta < 0 || meta > items) return undefined;
  const head = text.slice(meta, items);
  if (!head.includes('"continue"')) return null;
  // A plain token (base64url, as every API server writes it); anything else is left to the parser.
  const m = /"continue"\s*:\s*"([A-Za-z0-9_=+/.-]*)"/.exec(head);
  return m ? m[1]! || null : undefined;
}

/**
 * Read a whole list in pages of `pageSize` (`limit`, then `continue` until the server sends no
 * token), as kubectl and client-go's pager do: the API server answers a page at a time instead of
 * in one very large response. `get` answers with the page's JSON text: the next page is asked for
 * as soon as its token is read from the head of this one, while this one is parsed. When a
 * continue token has expired (410 Gone: paging took longer than etcd keeps the list's revision),
 * the list is read again whole without `limit`, as client-go does.
 */
export async function listPages(get: (query: { limit?: string; continue?: string }) => Promise<string>, pageSize = LIST_PAGE_SIZE): Promise<KubeObject[]> {
  const items: KubeObject[] = [];
  const limit = String(pageSize);
  let pending: Promise<string> | undefined = get({ limit });
  let continuing = false;
  while (pending) {
    let text: string;
    try {
      text = await pending;
    } catch (err) {
      if (!continuing || (err as { code?: unknown } | undefined)?.code !== 410) throw err;
      return ((JSON.parse(await get({})) as ListPage).items ?? []);
    }
    const peeked = peekContinue(text);
    // Ask for the next page before parsing this one: its latency overlaps the parse.
    pending = peeked ? get({ limit, continue: peeked }) : undefined;
    let page: ListPage;
    try {
      page = JSON.parse(text) as ListPage;
      if (peeked !== undefined && (peeked ?? undefined) !== (page.metadata?.continue || undefined)) throw new Error('a list page\'s continue token differs from the one read from its head');
    } catch (err) {
      pending?.catch(() => undefined);
      throw err;
    }
    const token = page.metadata?.continue || undefined;
    if (peeked === undefined && token) pending = get({ limit, continue: token });
    continuing = pending !== undefined;
    for (const o of page.items ?? []) items.push(o);
  }
  return items;
}

/** A list answer as client-node's typed clients give it (`continue` is `_continue` there). */
export interface ObjectList<T> {
  items: T[];
  metadata?: { _continue?: string; continue?: string; resourceVersion?: string };
}

/**
 * Read a whole list through a typed client in pages of `pageSize`, as listPages does for raw
 * text: for the controller's informers, whose first list (and every re-list) would otherwise ask
 * the API server for every object of a kind in one response. The answer is the last page with the
 * items of all pages and no continue token: every page of a paged list is read at the first page's
 * resource version, which the watch then starts from. When a continue token has expired (410
 * Gone), the list is read again whole, as client-go's pager does.
 */
export async function listObjectPages<T, L extends ObjectList<T>>(get: (limit: number | undefined, continueToken: string | undefined) => Promise<L>, pageSize = LIST_PAGE_SIZE): Promise<L> {
  const items: T[] = [];
  let token: string | undefined;
  for (;;) {
    let page: L;
    try {
      page = await get(pageSize, token);
    } catch (err) {
      if (token === undefined || (err as { code?: unknown } | undefined)?.code !== 410) throw err;
      return get(undefined, undefined);
    }
    for (const o of page.items ?? []) items.push(o);
    token = page.metadata?._continue || page.metadata?.continue || undefined;
    if (!token) return { ...page, items, metadata: { ...page.metadata, _continue: undefined, continue: undefined } };
  }
}
