/**
 * Paging over `limit` + `skip` [seen]: no total is returned, so pages are requested until one is shorter than
 * `limit`. A server that ignores `limit` answers the whole list at once (a page longer than asked for): that page
 * is the whole list, handed out in batches as it streams in, and paging stops.
 */
import type { z } from 'zod';
import type { SensoterraHttp, Query } from './http.js';
import { parseElement } from './schemas.js';

export interface Element<T> {
  value: T;
  raw: unknown; // the element as received, unknown fields included
}

export interface PagingOptions {
  query?: Query;
  pageSize: number;
  signal?: AbortSignal;
}

export async function* pagedList<S extends z.ZodType>(
  http: SensoterraHttp,
  path: string,
  schema: S,
  opts: PagingOptions,
): AsyncGenerator<Element<z.infer<S>>[]> {
  const endpoint = `GET ${path}`;
  let firstRaw: string | undefined;
  for (let skip = 0; ; skip += opts.pageSize) {
    let onPage = 0;
    const query = { ...opts.query, limit: opts.pageSize, skip };
    for await (const batch of http.arrayBatches(path, { query, batchSize: opts.pageSize, signal: opts.signal })) {
      // a server that also ignores `skip` answers page one again: stop rather than read the list twice
      if (onPage === 0 && skip > 0 && JSON.stringify(batch[0]) === firstRaw) return;
      if (onPage === 0 && skip === 0) firstRaw = JSON.stringify(batch[0]);
      yield batch.map((raw, i) => ({ value: parseElement(schema, raw, endpoint, `[${skip + onPage + i}]`), raw }));
      onPage += batch.length;
    }
    if (onPage !== opts.pageSize) return; // short page, or longer: the whole list
  }
}

/** An unpaged list endpoint, still read as a stream. */
export async function* wholeList<S extends z.ZodType>(
  http: SensoterraHttp,
  path: string,
  schema: S,
  opts: { query?: Query; batchSize: number; signal?: AbortSignal },
): AsyncGenerator<Element<z.infer<S>>[]> {
  const endpoint = `GET ${path}`;
  let index = 0;
  for await (const batch of http.arrayBatches(path, opts)) {
    yield batch.map((raw) => ({ value: parseElement(schema, raw, endpoint, `[${index++}]`), raw }));
  }
}
