import { act, renderHook, waitFor } from '@testing-library/react';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { APIError } from '@/services/api/errors';
import { itemsApi } from '@/services/api/items';
import { makeItem, makePage } from '@/test/fixtures';
import { applyChange, useItems } from './useItems';

vi.mock('@/services/api/items', () => ({
  itemsApi: { list: vi.fn(), get: vi.fn(), create: vi.fn(), update: vi.fn(), remove: vi.fn() },
}));
const api = vi.mocked(itemsApi);

beforeEach(() => {
  vi.resetAllMocks();
});

describe('applyChange', () => {
  const page = makePage([makeItem({ id: 2 }), makeItem({ id: 1 })]);

  it('adds a created item at the top of page 1, once', () => {
    const created = makeItem({ id: 3 });
    const once = applyChange(page, { type: 'item.created', data: created });
    expect(once.items.map((i) => i.id)).toEqual([3, 2, 1]);
    expect(once.total).toBe(3);
    const twice = applyChange(once, { type: 'item.created', data: created });
    expect(twice.items.map((i) => i.id)).toEqual([3, 2, 1]);
    expect(twice.total).toBe(3);
  });

  it('replaces updated items and ignores unknown or stale ones', () => {
    const newer = makeItem({ id: 1, title: 'renamed', updated_at: '2024-02-01T00:00:00' });
    const updated = applyChange(page, { type: 'item.updated', data: newer });
    expect(updated.items[1]?.title).toBe('renamed');
    expect(applyChange(page, { type: 'item.updated', data: makeItem({ id: 99 }) })).toBe(page);
    const stale = makeItem({ id: 1, title: 'old', updated_at: '2023-01-01T00:00:00' });
    expect(applyChange(updated, { type: 'item.updated', data: stale }).items[1]?.title).toBe('renamed');
  });

  it('removes deleted items once', () => {
    const removed = applyChange(page, { type: 'item.deleted', data: { id: 2 } });
    expect(removed.items.map((i) => i.id)).toEqual([1]);
    expect(removed.total).toBe(1);
    expect(applyChange(removed, { type: 'item.deleted', data: { id: 2 } })).toBe(removed);
  });
});

describe('useItems', () => {
  it('goes from loading to success', async () => {
    api.list.mockResolvedValue(makePage([makeItem()]));
    const { result } = renderHook(() => useItems());
    expect(result.current.state.status).toBe('loading');
    await waitFor(() => expect(result.current.state.status).toBe('success'));
    expect(result.current.state.data?.items).toHaveLength(1);
    expect(api.list).toHaveBeenCalledWith({ page: 1, page_size: 20 }, expect.objectContaining({ signal: expect.any(AbortSignal) }));
  });

  it('reports errors and recovers on reload', async () => {
    api.list.mockRejectedValueOnce(new APIError('NETWORK_ERROR', 'offline', 0)).mockResolvedValueOnce(makePage([]));
    const { result } = renderHook(() => useItems());
    await waitFor(() => expect(result.current.state.status).toBe('error'));
    expect(result.current.state.error?.code).toBe('NETWORK_ERROR');
    act(() => result.current.reload());
    await waitFor(() => expect(result.current.state.status).toBe('success'));
    expect(result.current.state.data?.items).toEqual([]);
  });

  it('keeps the error while a re-fetch loads, until one succeeds', async () => {
    let answer!: (page: ReturnType<typeof makePage>) => void;
    api.list
      .mockRejectedValueOnce(new APIError('SERVICE_UNAVAILABLE', 'busy', 503))
      .mockImplementationOnce(() => new Promise((resolve) => (answer = resolve)));
    const { result } = renderHook(() => useItems());
    await waitFor(() => expect(result.current.state.status).toBe('error'));
    act(() => result.current.reload());
    expect(result.current.state.status).toBe('loading');
    expect(result.current.state.error?.code).toBe('SERVICE_UNAVAILABLE');
    await act(async () => answer(makePage([makeItem()])));
    expect(result.current.state.status).toBe('success');
    expect(result.current.state.error).toBeNull();
  });

  it('paginates', async () => {
    api.list.mockImplementation(async ({ page = 1 } = {}) =>
      makePage([makeItem({ id: page })], { page, page_size: 1, total: 3 }),
    );
    const { result } = renderHook(() => useItems({ pageSize: 1 }));
    await waitFor(() => expect(result.current.state.status).toBe('success'));
    expect(result.current.pageCount).toBe(3);
    act(() => result.current.setPage(2));
    await waitFor(() => expect(result.current.state.data?.page).toBe(2));
    expect(api.list).toHaveBeenLastCalledWith({ page: 2, page_size: 1 }, expect.anything());
  });

  it('applies its own mutations and the matching live events without duplicates', async () => {
    api.list.mockResolvedValue(makePage([makeItem({ id: 1 })]));
    const created = makeItem({ id: 2, title: 'new' });
    api.create.mockResolvedValue(created);
    api.update.mockResolvedValue({ ...created, title: 'newer', updated_at: '2024-03-01T00:00:00' });
    api.remove.mockResolvedValue(undefined);
    const { result } = renderHook(() => useItems());
    await waitFor(() => expect(result.current.state.status).toBe('success'));

    await act(() => result.current.create({ title: 'new', price: '1.00' }));
    act(() => result.current.apply({ type: 'item.created', data: created })); // the WebSocket echo
    expect(result.current.state.data?.items.map((i) => i.id)).toEqual([2, 1]);
    expect(result.current.state.data?.total).toBe(2);

    await act(() => result.current.update(2, { title: 'newer' }));
    expect(result.current.state.data?.items[0]?.title).toBe('newer');

    await act(() => result.current.remove(2));
    act(() => result.current.apply({ type: 'item.deleted', data: { id: 2 } }));
    expect(result.current.state.data?.items.map((i) => i.id)).toEqual([1]);
    expect(result.current.state.data?.total).toBe(1);
  });
});
