import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { ItemChange } from '@/hooks/useItems';

export type ConnectionStatus = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** How the stream authenticates; omit for a backend without auth. */
export interface SocketAuth {
  /** The access token the ticket is asked for with (may refresh first). */
  getToken: () => Promise<string>;
  /** Called when the ticket request answers 401: must return a fresh token or reject (logged out). */
  refresh: () => Promise<string>;
}

export interface UseItemUpdatesOptions {
  /** Called for every item event. Need not be memoized. */
  onEvent: (change: ItemChange) => void;
  /** Called after a reconnect: events may have been missed meanwhile, re-fetch. */
  onResync?: () => void;
  /** Watch one item (`/sse/items/<id>`) instead of all of the user's items. */
  itemId?: number;
  auth?: SocketAuth;
  enabled?: boolean;
  /** Backoff tuning (ms); tests shorten them. */
  baseDelay?: number;
  maxDelay?: number;
  /** Kept for the WebSocket hook's interface: an event stream needs no pings (the server sends heartbeats). */
  pingInterval?: number;
}

export const EVENT_TYPES = ['item.created', 'item.updated', 'item.deleted'] as const;

/** A stream open at least this long (ms) that ends is reopened at once; a shorter one backs off. */
export const MIN_STREAM_MS = 1_000;

/** Capped exponential backoff with jitter: a random delay in [d/2, d], d = min(max, base * 2^attempt). */
export function backoffDelay(attempt: number, baseDelay: number, maxDelay: number, random = Math.random): number {
  const ceiling = Math.min(maxDelay, baseDelay * 2 ** attempt);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
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

class Unauthorized extends Error {}

/** POST /api/realtime/ticket with the access token: a one-time ticket for one stream. */
export async function fetchTicket(token: string): Promise<string> {
  const response = await fetch('/api/realtime/ticket', {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}` },
  });
  if (response.status === 401) throw new Unauthorized();
  if (!response.ok) throw new Error(`ticket request failed: ${response.status}`);
  const body = (await response.json()) as { data?: { ticket?: unknown } };
  if (typeof body.data?.ticket !== 'string') throw new Error('ticket response without a ticket');
  return body.data.ticket;
}

/**
 * Live item changes as Server-Sent Events from `/sse/items` (or `/sse/items/<id>`), with the
 * WebSocket hook's interface. With auth, each connection first exchanges the access token for
 * a one-time ticket (`POST /api/realtime/ticket`, Bearer header: the token never goes in a URL);
 * a 401 there refreshes the token once. EventSource's own reconnect is not used (a ticket opens
 * one stream only): on any error the stream is closed and reopened with a new ticket — at once
 * when it had been open for a while (the server ends a stream when its access token expires),
 * else after a capped exponential backoff with jitter — asking for what was missed with
 * `last_event_id`; `onResync` runs once it is open again. Never touches state after unmount.
 */
export function useItemUpdates(options: UseItemUpdatesOptions): { status: ConnectionStatus } {
  const { itemId, auth, enabled = true, baseDelay = 1_000, maxDelay = 30_000 } = options;
  const [status, setStatus] = useState<ConnectionStatus>(enabled ? 'connecting' : 'closed');

  // Callbacks and auth go through refs so that new closures do not reopen the stream.
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
    let source: EventSource | null = null;
    let attempt = 0;
    let everOpen = false;
    let lastEventId: string | null = null;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    const path = itemId === undefined ? '/sse/items' : `/sse/items/${itemId}`;

    const update = (next: ConnectionStatus) => {
      if (!disposed) setStatus(next);
    };

    const scheduleReconnect = () => {
      if (disposed) return;
      update('reconnecting');
      const delay = backoffDelay(attempt, baseDelay, maxDelay);
      attempt += 1;
      retryTimer = setTimeout(() => void connect(), delay);
    };

    /** A ticket for the current session: refresh once on 401; null when logged out. */
    const ticket = async (): Promise<string | null> => {
      const current = authRef.current;
      if (!current) return null;
      let token: string;
      try {
        token = await current.getToken();
      } catch {
        throw new Unauthorized(); // no session: the auth layer has already announced the logout
      }
      try {
        return await fetchTicket(token);
      } catch (error) {
        if (!(error instanceof Unauthorized)) throw error;
      }
      // The token expired or was revoked: one refresh, then one more try.
      let fresh: string;
      try {
        fresh = await current.refresh();
      } catch {
        throw new Unauthorized(); // refresh refused: logged out
      }
      return fetchTicket(fresh);
    };

    const connect = async () => {
      if (disposed) return;
      clearTimeout(retryTimer);
      retryTimer = undefined;
      update(everOpen ? 'reconnecting' : 'connecting');
      const query = new URLSearchParams();
      try {
        const value = await ticket();
        if (value !== null) query.set('ticket', value);
      } catch (error) {
        if (disposed) return;
        if (error instanceof Unauthorized) {
          update('closed'); // logged out (or the refresh was refused)
          return;
        }
        scheduleReconnect();
        return;
      }
      if (disposed) return;
      if (lastEventId !== null) query.set('last_event_id', lastEventId);
      const search = query.toString();
      const url = search ? `${path}?${search}` : path;
      const es = new EventSource(url);
      source = es;
      let openedAt: number | null = null;

      es.onopen = () => {
        if (disposed || source !== es) return;
        openedAt = Date.now();
        const reconnected = everOpen;
        everOpen = true;
        attempt = 0;
        update('open');
        if (reconnected) handlers.current.onResync?.();
      };

      const onMessage = (event: MessageEvent) => {
        if (disposed || source !== es) return;
        if (event.lastEventId) lastEventId = event.lastEventId;
        let message: unknown;
        try {
          message = JSON.parse(String(event.data));
        } catch {
          return;
        }
        if (isItemChange(message)) handlers.current.onEvent(message);
      };
      for (const type of EVENT_TYPES) es.addEventListener(type, onMessage as EventListener);

      es.onerror = () => {
        // The stream ended (token expiry, logout, a restart) or never opened (a used or
        // expired ticket is a 401): EventSource would retry the same URL; a new ticket is needed.
        if (source !== es) return;
        es.close();
        source = null;
        if (disposed) return;
        // A stream that ran for a while ended: most often its access token expired (the server
        // ends it then, as the WebSocket closes with 4401). Reconnect at once, so the ticket
        // request refreshes the token before the page's next request needs it. A stream that
        // never opened, or ended at once, backs off.
        if (openedAt !== null && Date.now() - openedAt >= MIN_STREAM_MS) {
          void connect();
          return;
        }
        scheduleReconnect();
      };
    };

    // Coming back online: do not wait for the backoff timer.
    const onOnline = () => {
      if (!disposed && source === null && retryTimer !== undefined) {
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
      const es = source;
      source = null;
      if (es) {
        es.onopen = null;
        es.onerror = null;
        es.close();
      }
    };
  }, [enabled, itemId, hasAuth, baseDelay, maxDelay]);

  return { status };
}
