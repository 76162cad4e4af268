import { act, renderHook } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeEventSource } from '@/test/fakeEventSource';
import { makeItem } from '@/test/fixtures';
import { backoffDelay, useItemUpdates, type SocketAuth } from './useItemUpdates';

/** Let pending promises (token, ticket, refresh) settle without moving the clock. */
const flush = () => act(() => vi.advanceTimersByTimeAsync(0));

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

/** The ticket endpoint: answers `statuses` in turn (then 201), each 201 with a new ticket. */
function ticketServer(statuses: number[] = []) {
  let issued = 0;
  const fetchMock = vi.fn(async (_url: string, _init?: RequestInit) => {
    const status = statuses.shift() ?? 201;
    if (status !== 201) return json(status, { success: false, error: 'UNAUTHORIZED' });
    issued += 1;
    return json(201, { success: true, data: { ticket: `ticket-${issued}`, expires_in: 30 }, message: null });
  });
  vi.stubGlobal('fetch', fetchMock);
  return fetchMock;
}

function setup(overrides: Partial<Parameters<typeof useItemUpdates>[0]> = {}) {
  const onEvent = vi.fn();
  const onResync = vi.fn();
  let n = 0;
  const auth: SocketAuth = {
    getToken: vi.fn(async () => `token-${n}`),
    refresh: vi.fn(async () => `token-${++n}`),
  };
  const hook = renderHook(() =>
    useItemUpdates({ onEvent, onResync, auth, baseDelay: 1_000, maxDelay: 8_000, ...overrides }),
  );
  return { ...hook, onEvent, onResync, auth };
}

async function openStream() {
  await flush();
  const es = FakeEventSource.latest();
  act(() => es.serverOpen());
  return es;
}

beforeEach(() => {
  vi.useFakeTimers();
  FakeEventSource.reset();
  vi.stubGlobal('EventSource', FakeEventSource);
  vi.spyOn(Math, 'random').mockReturnValue(1); // jitter at its maximum: deterministic delays
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('backoffDelay', () => {
  it('grows exponentially, is capped and jittered into [d/2, d]', () => {
    expect(backoffDelay(0, 1_000, 30_000, () => 1)).toBe(1_000);
    expect(backoffDelay(3, 1_000, 30_000, () => 1)).toBe(8_000);
    expect(backoffDelay(10, 1_000, 30_000, () => 1)).toBe(30_000);
  });
});

describe('useItemUpdates (Server-Sent Events)', () => {
  it('asks for a ticket with the Bearer header and opens the stream with it, never the token', async () => {
    const fetchMock = ticketServer();
    const { result, onEvent } = setup();
    expect(result.current.status).toBe('connecting');
    const es = await openStream();

    expect(fetchMock).toHaveBeenCalledTimes(1);
    const [url, init] = fetchMock.mock.calls[0] ?? [];
    expect(url).toBe('/api/realtime/ticket');
    expect(init?.method).toBe('POST');
    expect((init?.headers as Record<string, string>).Authorization).toBe('Bearer token-0');
    expect(es.url).toBe('/sse/items?ticket=ticket-1');
    expect(es.url).not.toContain('token');
    expect(result.current.status).toBe('open');

    const item = makeItem({ id: 5 });
    act(() => es.serverEvent('item.updated', { type: 'item.updated', data: item }, '100'));
    act(() => es.serverEvent('item.created', 'not json', '101'));
    act(() => es.serverEvent('item.deleted', { type: 'item.deleted', data: { id: 5 } }, '102'));
    expect(onEvent.mock.calls).toEqual([[{ type: 'item.updated', data: item }], [{ type: 'item.deleted', data: { id: 5 } }]]);
  });

  it('watches one item on /sse/items/<id>', async () => {
    ticketServer();
    setup({ itemId: 42 });
    await flush();
    expect(FakeEventSource.latest().url).toBe('/sse/items/42?ticket=ticket-1');
  });

  it('reopens a stream that ended after a while at once, with a new ticket and the last event id, then resyncs', async () => {
    const fetchMock = ticketServer();
    const { result, onResync } = setup();
    const first = await openStream();
    act(() => first.serverEvent('item.created', { type: 'item.created', data: makeItem({ id: 1 }) }, '200'));
    await act(() => vi.advanceTimersByTimeAsync(5_000)); // open for a while (its token then expires)

    act(() => first.serverError());
    expect(first.readyState).toBe(FakeEventSource.CLOSED); // EventSource's own retry would reuse the ticket
    await flush();
    const second = FakeEventSource.latest();
    expect(second).not.toBe(first);
    expect(second.url).toBe('/sse/items?ticket=ticket-2&last_event_id=200');
    expect(fetchMock).toHaveBeenCalledTimes(2);
    expect(result.current.status).toBe('reconnecting');
    act(() => second.serverOpen());
    expect(result.current.status).toBe('open');
    expect(onResync).toHaveBeenCalledTimes(1);
  });

  it('backs off when a stream ends right after opening', async () => {
    ticketServer();
    setup();
    const first = await openStream();
    act(() => first.serverError());
    await flush();
    expect(FakeEventSource.instances).toHaveLength(1);
    await act(() => vi.advanceTimersByTimeAsync(999));
    expect(FakeEventSource.instances).toHaveLength(1);
    await act(() => vi.advanceTimersByTimeAsync(1));
    expect(FakeEventSource.instances).toHaveLength(2);
  });

  it('backs off exponentially while the stream keeps failing', async () => {
    ticketServer();
    setup();
    await flush();
    act(() => FakeEventSource.latest().serverError()); // never opened (e.g. a 401)
    await act(() => vi.advanceTimersByTimeAsync(1_000));
    expect(FakeEventSource.instances).toHaveLength(2);
    act(() => FakeEventSource.latest().serverError());
    await act(() => vi.advanceTimersByTimeAsync(1_999));
    expect(FakeEventSource.instances).toHaveLength(2);
    await act(() => vi.advanceTimersByTimeAsync(1));
    expect(FakeEventSource.instances).toHaveLength(3);
  });

  it('refreshes the token once when the ticket request answers 401', async () => {
    const fetchMock = ticketServer([401]);
    const { auth, result } = setup();
    await flush();
    expect(auth.refresh).toHaveBeenCalledTimes(1);
    const retried = fetchMock.mock.calls[1]?.[1];
    expect((retried?.headers as Record<string, string>).Authorization).toBe('Bearer token-1');
    expect(FakeEventSource.latest().url).toBe('/sse/items?ticket=ticket-1');
    act(() => FakeEventSource.latest().serverOpen());
    expect(result.current.status).toBe('open');
  });

  it('stops when the refresh is refused (logged out)', async () => {
    ticketServer([401]);
    const { result } = setup({
      auth: { getToken: async () => 'old', refresh: () => Promise.reject(new Error('logged out')) },
    });
    await flush();
    expect(result.current.status).toBe('closed');
    expect(FakeEventSource.instances).toHaveLength(0);
  });

  it('retries with backoff when the ticket request fails otherwise', async () => {
    ticketServer([503]);
    const { result } = setup();
    await flush();
    expect(result.current.status).toBe('reconnecting');
    expect(FakeEventSource.instances).toHaveLength(0);
    await act(() => vi.advanceTimersByTimeAsync(1_000));
    expect(FakeEventSource.latest().url).toBe('/sse/items?ticket=ticket-1');
  });

  it('needs no ticket without auth', async () => {
    const fetchMock = ticketServer();
    setup({ auth: undefined });
    await flush();
    expect(fetchMock).not.toHaveBeenCalled();
    expect(FakeEventSource.latest().url).toBe('/sse/items');
  });

  it('closes the stream on unmount and does not reconnect', async () => {
    ticketServer();
    const { unmount } = setup();
    const es = await openStream();
    unmount();
    expect(es.readyState).toBe(FakeEventSource.CLOSED);
    await act(() => vi.advanceTimersByTimeAsync(60_000));
    expect(FakeEventSource.instances).toHaveLength(1);
  });

  it('stays closed when disabled', async () => {
    ticketServer();
    const { result } = setup({ enabled: false });
    await flush();
    expect(result.current.status).toBe('closed');
    expect(FakeEventSource.instances).toHaveLength(0);
  });
});
