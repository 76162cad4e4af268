import { useCallback, useEffect, useRef, useState } from 'react';
import { itemsApi } from '@/services/api/items';
import { toAPIError, type APIError } from '@/services/api/errors';
import type { ItemCreateInput, ItemResponse, ItemUpdateInput, Page } from '@/types';

/** A change pushed by the backend (WebSocket) or made by this client. */
export type ItemChange =
  | { type: 'item.created' | 'item.updated'; data: ItemResponse }
  | { type: 'item.deleted'; data: { id: number } };

export type ItemsState =
  /** `error`: the previous attempt's, kept while a new one loads (the banner does not flicker). */
  | { status: 'loading'; data: Page<ItemResponse> | null; error: APIError | null }
  | { status: 'error'; data: Page<ItemResponse> | null; error: APIError }
  | { status: 'success'; data: Page<ItemResponse>; error: null };

export interface UseItemsResult {
  state: ItemsState;
  page: number;
  pageCount: number;
  setPage: (page: number) => void;
  /** Re-fetch the current page; keeps showing the current data while loading. */
  reload: () => void;
  create: (input: ItemCreateInput) => Promise<ItemResponse>;
  update: (id: number, input: ItemUpdateInput) => Promise<ItemResponse>;
  remove: (id: number) => Promise<void>;
  /** Apply a change to the loaded page. Idempotent: an event for our own mutation is a no-op. */
  apply: (change: ItemChange) => void;
}

/** Pure reducer for item changes, exported for tests. */
export function applyChange(data: Page<ItemResponse>, change: ItemChange): Page<ItemResponse> {
  const index = data.items.findIndex((item) => item.id === change.data.id);
  switch (change.type) {
    case 'item.created':
      if (index !== -1) return replaceAt(data, index, change.data);
      // The list is newest first: a new item belongs at the top of page 1 only.
      if (data.page !== 1) return { ...data, total: data.total + 1 };
      return {
        ...data,
        items: [change.data, ...data.items].slice(0, data.page_size),
        total: data.total + 1,
      };
    case 'item.updated':
      return index === -1 ? data : replaceAt(data, index, change.data);
    case 'item.deleted':
      if (index === -1) return data;
      return { ...data, items: data.items.filter((_, i) => i !== index), total: Math.max(0, data.total - 1) };
  }
}

function replaceAt(data: Page<ItemResponse>, index: number, item: ItemResponse): Page<ItemResponse> {
  const current = data.items[index];
  // Ignore stale events (an older version arriving after a newer one).
  if (current && current.updated_at > item.updated_at) return data;
  const items = data.items.slice();
  items[index] = item;
  return { ...data, items };
}

export function useItems({ pageSize = 20 }: { pageSize?: number } = {}): UseItemsResult {
  const [page, setPage] = useState(1);
  const [reloadKey, setReloadKey] = useState(0);
  const [state, setState] = useState<ItemsState>({ status: 'loading', data: null, error: null });
  const mounted = useRef(true);

  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  useEffect(() => {
    const controller = new AbortController();
    // A failed page stays failed until a new attempt succeeds: re-fetches (a retry, the live
    // channel resyncing) do not take the error away and bring it back.
    setState((prev) => ({ status: 'loading', data: prev.data, error: prev.error }));
    itemsApi
      .list({ page, page_size: pageSize }, { signal: controller.signal })
      .then((data) => {
        if (controller.signal.aborted) return;
        // Deleting the last item of a page leaves it empty: step back.
        if (data.items.length === 0 && data.page > 1 && data.total > 0) {
          setPage(Math.max(1, Math.ceil(data.total / data.page_size)));
          return;
        }
        setState({ status: 'success', data, error: null });
      })
      .catch((error: unknown) => {
        if (controller.signal.aborted) return;
        setState((prev) => ({ status: 'error', data: prev.data, error: toAPIError(error) }));
      });
    return () => controller.abort();
  }, [page, pageSize, reloadKey]);

  const reload = useCallback(() => setReloadKey((key) => key + 1), []);

  const apply = useCallback((change: ItemChange) => {
    if (!mounted.current) return;
    setState((prev) => (prev.status === 'success' ? { ...prev, data: applyChange(prev.data, change) } : prev));
  }, []);

  const create = useCallback(
    async (input: ItemCreateInput) => {
      const item = await itemsApi.create(input);
      apply({ type: 'item.created', data: item });
      return item;
    },
    [apply],
  );

  const update = useCallback(
    async (id: number, input: ItemUpdateInput) => {
      const item = await itemsApi.update(id, input);
      apply({ type: 'item.updated', data: item });
      return item;
    },
    [apply],
  );

  const remove = useCallback(
    async (id: number) => {
      await itemsApi.remove(id);
      apply({ type: 'item.deleted', data: { id } });
    },
    [apply],
  );

  const total = state.data?.total ?? 0;
  const pageCount = Math.max(1, Math.ceil(total / pageSize));

  return { state, page, pageCount, setPage, reload, create, update, remove, apply };
}
