import type { KubeObject } from './types.js';

/** How many objects one list request asks for (kubectl's --chunk-size default). */
export const LIST_PAGE_SIZE = 500;

/** One page of a list answer: its items and, when more follow, the token that continues it. */
export interface ListPage {
  items?: KubeObject[];
  metadata?: { continue?: string };
}

/**
 * Read a whole list in pages of `pageSize` (`limit`, then `continue` until the server sends no
 * token), as kubectl and client-go's pager do: the API server answers a page at a time instead of
 * in one very large response. When a continue token has expired (410 Gone: paging took longer
 * than etcd keeps the list's revision), the list is read again whole without `limit`, as
 * client-go does.
 */
export async function listPages(get: (query: { limit?: string; continue?: string }) => Promise<ListPage>, pageSize = LIST_PAGE_SIZE): Promise<KubeObject[]> {
  const items: KubeObject[] = [];
  let token: string | undefined;
  do {
    let page: ListPage;
    try {
      page = await get({ limit: String(pageSize), continue: token });
    } catch (err) {
      if (token === undefined || (err as { code?: unknown } | undefined)?.code !== 410) throw err;
      return (await get({})).items ?? [];
    }
    for (const o of page.items ?? []) items.push(o);
    token = page.metadata?.continue || undefined;
  } while (token);
  return items;
}
