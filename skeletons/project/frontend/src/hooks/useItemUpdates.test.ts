import { act, renderHook } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeWebSocket } from '@/test/fakeWebSocket';
import { makeItem } from '@/test/fixtures';
import { backoffDelay, useItemUpdates, type SocketAuth } from './useItemUpdates';

/** Let pending promises (token fetch, refresh) settle without moving the clock. */
const flush = () => act(() => vi.advanceTimersByTimeAsync(0));

function setup(overrides: Partial<Parameters<typeof useItemUpdates>[0]> = {}) {
  const onEvent = vi.fn();
  const onResync = vi.fn();
  let n = 0;
  const auth: SocketAuth = {
    getToken: vi.fn(async () => `token-${n}`),
    refresh: vi.fn(async () => `token-${++n}`),
  };
  const hook = renderHook(() =>
    useItemUpdates({ onEvent, onResync, auth, baseDelay: 1_000, maxDelay: 8_000, pingInterval: 10_000, ...overrides }),
  );
  return { ...hook, onEvent, onResync, auth };
}

async function connectReady() {
  await flush();
  const ws = FakeWebSocket.latest();
  act(() => ws.serverOpen());
  act(() => ws.serverSend({ type: 'ready' }));
  return ws;
}

beforeEach(() => {
  vi.useFakeTimers();
  FakeWebSocket.reset();
  vi.stubGlobal('WebSocket', FakeWebSocket);
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
    expect(backoffDelay(3, 1_000, 30_000, () => 0)).toBe(4_000);
  });
});

describe('useItemUpdates', () => {
  it('authenticates with the first message and delivers item events', async () => {
    const { result, onEvent } = setup();
    expect(result.current.status).toBe('connecting');
    const ws = await connectReady();

    expect(ws.url).toBe(`ws://${window.location.host}/ws/items`);
    expect(ws.sent[0]).toEqual({ type: 'auth', token: 'token-0' });
    expect(result.current.status).toBe('open');

    const item = makeItem({ id: 5 });
    act(() => ws.serverSend({ type: 'item.updated', data: item }));
    act(() => ws.serverSend('not json'));
    act(() => ws.serverSend({ type: 'pong' }));
    act(() => ws.serverSend({ type: 'item.deleted', data: { id: 5 } }));
    expect(onEvent.mock.calls).toEqual([[{ type: 'item.updated', data: item }], [{ type: 'item.deleted', data: { id: 5 } }]]);
  });

  it('watches one item on /ws/items/<id>', async () => {
    setup({ itemId: 42 });
    await flush();
    expect(FakeWebSocket.latest().url).toMatch(/\/ws\/items\/42$/);
  });

  it('pings to keep the connection alive', async () => {
    setup();
    const ws = await connectReady();
    await act(() => vi.advanceTimersByTimeAsync(10_000));
    expect(ws.sent).toContainEqual({ type: 'ping' });
  });

  it('reconnects with capped exponential backoff and resyncs after reconnecting', async () => {
    const { result, onResync } = setup();
    const first = await connectReady();

    act(() => first.serverClose(1006));
    expect(result.current.status).toBe('reconnecting');
    await act(() => vi.advanceTimersByTimeAsync(999));
    expect(FakeWebSocket.instances).toHaveLength(1);
    await act(() => vi.advanceTimersByTimeAsync(1));
    expect(FakeWebSocket.instances).toHaveLength(2);

    // Failing again: 2 s, then 4 s, then 8 s (the cap), then 8 s.
    const expected = [2_000, 4_000, 8_000, 8_000];
    for (const delay of expected) {
      act(() => FakeWebSocket.latest().serverClose(1006));
      const before = FakeWebSocket.instances.length;
      await act(() => vi.advanceTimersByTimeAsync(delay - 1));
      expect(FakeWebSocket.instances).toHaveLength(before);
      await act(() => vi.advanceTimersByTimeAsync(1));
      expect(FakeWebSocket.instances).toHaveLength(before + 1);
    }

    expect(onResync).not.toHaveBeenCalled();
    const ws = FakeWebSocket.latest();
    act(() => ws.serverOpen());
    act(() => ws.serverSend({ type: 'ready' }));
    expect(result.current.status).toBe('open');
    expect(onResync).toHaveBeenCalledTimes(1);

    // A successful connection resets the backoff.
    act(() => ws.serverClose(1006));
    const before = FakeWebSocket.instances.length;
    await act(() => vi.advanceTimersByTimeAsync(1_000));
    expect(FakeWebSocket.instances).toHaveLength(before + 1);
  });

  it('on 4401 refreshes the token and reconnects at once with the new one', async () => {
    const { auth, result } = setup();
    const first = await connectReady();

    act(() => first.serverClose(4401));
    await flush();
    expect(auth.refresh).toHaveBeenCalledTimes(1);
    expect(FakeWebSocket.instances).toHaveLength(2);
    const second = FakeWebSocket.latest();
    act(() => second.serverOpen());
    expect(second.sent[0]).toEqual({ type: 'auth', token: 'token-1' });
    act(() => second.serverSend({ type: 'ready' }));
    expect(result.current.status).toBe('open');
  });

  it('stops when the refresh after 4401 is rejected (logged out)', async () => {
    const { auth, result } = setup();
    vi.mocked(auth.refresh).mockRejectedValueOnce(new Error('refresh rejected'));
    const first = await connectReady();
    act(() => first.serverClose(4401));
    await flush();
    await act(() => vi.advanceTimersByTimeAsync(60_000));
    expect(result.current.status).toBe('closed');
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it('stops on 4404 (not the user’s item)', async () => {
    const { result } = setup({ itemId: 7 });
    const ws = await connectReady();
    act(() => ws.serverClose(4404));
    await act(() => vi.advanceTimersByTimeAsync(60_000));
    expect(result.current.status).toBe('closed');
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it('closes the socket on unmount and never reconnects or updates afterwards', async () => {
    const { unmount, onEvent } = setup();
    const ws = await connectReady();
    const onclose = ws.onclose;
    unmount();
    expect(ws.closedByClient).toBe(1000);
    // Late events from the dead socket go nowhere.
    onclose?.({ code: 1006 } as CloseEvent);
    await act(() => vi.advanceTimersByTimeAsync(60_000));
    expect(FakeWebSocket.instances).toHaveLength(1);
    expect(onEvent).not.toHaveBeenCalled();
  });

  it('unmounting while the token is being fetched opens no socket', async () => {
    const { unmount } = setup();
    unmount();
    await flush();
    expect(FakeWebSocket.instances).toHaveLength(0);
  });

  it('without auth sends no auth message and is live once open', async () => {
    const { result } = setup({ auth: undefined });
    await flush();
    const ws = FakeWebSocket.latest();
    act(() => ws.serverOpen());
    expect(ws.sent).toEqual([]);
    expect(result.current.status).toBe('open');
  });
});
