import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { ItemChange } from '@/hooks/useItems';

export type ConnectionStatus = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** How the socket authenticates; omit for a backend without auth. */
export interface SocketAuth {
  /** The access token to send as the first message (may refresh first). */
  getToken: () => Promise<string>;
  /** Called when the server closes with 4401: must return a fresh token or reject (logged out). */
  refresh: () => Promise<string>;
}

export interface UseItemUpdatesOptions {
  /** Called for every item event. Need not be memoized. */
  onEvent: (change: ItemChange) => void;
  /** Called after a reconnect: events may have been missed meanwhile, re-fetch. */
  onResync?: () => void;
  /** Watch one item (`/ws/items/<id>`) instead of all of the user's items. */
  itemId?: number;
  auth?: SocketAuth;
  enabled?: boolean;
  /** Backoff tuning (ms); tests shorten them. */
  baseDelay?: number;
  maxDelay?: number;
  pingInterval?: number;
}

export const CLOSE_UNAUTHORIZED = 4401;
export const CLOSE_NOT_FOUND = 4404;

/** Capped exponential backoff with jitter: a random delay in [d/2, d], d = min(max, base * 2^attempt). */
export function backoffDelay(attempt: number, baseDelay: number, maxDelay: number, random = Math.random): number {
  const ceiling = Math.min(maxDelay, baseDelay * 2 ** attempt);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export function socketUrl(path: string): string {
  const { protocol, host } = window.location;
  return `${protocol === 'https:' ? 'wss' : 'ws'}://${host}${path}`;
}

function isItemChange(message: unknown): message is ItemChange {
  if (typeof message !== 'object' || message === null) return false;
  const { type, data } = message as { type?: unknown; data?: unknown };
  return (
    (type === 'item.created' || type === 'item.updated' || type === 'item.deleted') &&
    typeof data === 'object' &&
    data !== null &&
    typeof (data as { id?: unknown }).id === 'number'
  );
}

/**
 * Live item changes over `/ws/items` (or `/ws/items/<id>`). Authenticates with a first
 * `{"type": "auth", "token"}` message, reconnects with capped exponential backoff and jitter,
 * refreshes the token and reconnects on close code 4401, gives up on 4404, pings to keep
 * proxies from timing out the idle socket, and never touches state after unmount.
 */
export function useItemUpdates(options: UseItemUpdatesOptions): { status: ConnectionStatus } {
  const { itemId, auth, enabled = true, baseDelay = 1_000, maxDelay = 30_000, pingInterval = 25_000 } = options;
  const [status, setStatus] = useState<ConnectionStatus>(enabled ? 'connecting' : 'closed');

  // Callbacks and auth go through refs so that new closures do not reconnect the socket.
  const handlers = useRef(options);
  const authRef = useRef(auth);
  useLayoutEffect(() => {
    handlers.current = options;
    authRef.current = auth;
  });
  const hasAuth = auth !== undefined;

  useEffect(() => {
    if (!enabled) {
      setStatus('closed');
      return;
    }
    let disposed = false;
    let socket: WebSocket | null = null;
    let attempt = 0;
    let everReady = false;
    let unauthorizedInARow = 0;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let pingTimer: ReturnType<typeof setInterval> | undefined;
    const path = itemId === undefined ? '/ws/items' : `/ws/items/${itemId}`;

    const update = (next: ConnectionStatus) => {
      if (!disposed) setStatus(next);
    };

    const stopPing = () => {
      if (pingTimer !== undefined) clearInterval(pingTimer);
      pingTimer = undefined;
    };

    const scheduleReconnect = () => {
      if (disposed) return;
      update('reconnecting');
      const delay = backoffDelay(attempt, baseDelay, maxDelay);
      attempt += 1;
      retryTimer = setTimeout(() => void connect(), delay);
    };

    const connect = async (tokenOverride?: string) => {
      if (disposed) return;
      clearTimeout(retryTimer);
      let token: string | undefined = tokenOverride;
      if (authRef.current && token === undefined) {
        try {
          token = await authRef.current.getToken();
        } catch {
          update('closed'); // no session: the auth layer has already announced the logout
          return;
        }
      }
      if (disposed) return;
      update(everReady ? 'reconnecting' : 'connecting');
      const ws = new WebSocket(socketUrl(path));
      socket = ws;

      let ready = false;
      const markReady = () => {
        if (ready) return;
        ready = true;
        const reconnected = everReady;
        everReady = true;
        attempt = 0;
        unauthorizedInARow = 0;
        update('open');
        stopPing();
        pingTimer = setInterval(() => {
          if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'ping' }));
        }, pingInterval);
        if (reconnected) handlers.current.onResync?.();
      };

      ws.onopen = () => {
        if (disposed || socket !== ws) return;
        // With auth the server confirms with {"type": "ready"}; without, the open socket is ready.
        if (token !== undefined) ws.send(JSON.stringify({ type: 'auth', token }));
        else markReady();
      };

      ws.onmessage = (event: MessageEvent) => {
        if (disposed || socket !== ws) return;
        let message: unknown;
        try {
          message = JSON.parse(String(event.data));
        } catch {
          return;
        }
        if (typeof message !== 'object' || message === null) return;
        const type = (message as { type?: unknown }).type;
        if (type === 'ready') {
          markReady();
        } else if (isItemChange(message)) {
          handlers.current.onEvent(message);
        }
      };

      ws.onclose = (event: CloseEvent) => {
        if (socket === ws) socket = null;
        stopPing();
        if (disposed) return;
        if (event.code === CLOSE_NOT_FOUND) {
          update('closed');
          return;
        }
        if (event.code === CLOSE_UNAUTHORIZED && authRef.current) {
          // The token expired (or was revoked): refresh once, then reconnect right away.
          // Two 4401s in a row with fresh tokens means something else is wrong: back off.
          unauthorizedInARow += 1;
          if (unauthorizedInARow > 1) {
            scheduleReconnect();
            return;
          }
          update('reconnecting');
          authRef.current.refresh().then(
            (fresh) => void connect(fresh),
            () => update('closed'), // refresh rejected: logged out
          );
          return;
        }
        scheduleReconnect();
      };
    };

    // Coming back online: do not wait for the backoff timer.
    const onOnline = () => {
      if (!disposed && socket === null && retryTimer !== undefined) {
        attempt = 0;
        void connect();
      }
    };
    window.addEventListener('online', onOnline);
    void connect();

    return () => {
      disposed = true;
      window.removeEventListener('online', onOnline);
      clearTimeout(retryTimer);
      stopPing();
      const ws = socket;
      socket = null;
      if (ws) {
        ws.onopen = null;
        ws.onmessage = null;
        ws.onclose = null;
        ws.onerror = null;
        if (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN) ws.close(1000, 'unmount');
      }
    };
  }, [enabled, itemId, hasAuth, baseDelay, maxDelay, pingInterval]);

  return { status };
}
