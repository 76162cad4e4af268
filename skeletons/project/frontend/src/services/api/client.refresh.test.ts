import type { InternalAxiosRequestConfig } from 'axios';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { session } from '@/services/auth/session';
import { fail, mockAdapter, ok, sleep } from '@/test/mockAdapter';
import { authApi } from './auth';
import { client, refreshAccessToken } from './client';
import { APIError } from './errors';

const unauthorized = () => fail(401, 'UNAUTHORIZED', 'Token expired');
const tokenPair = (n: number) => ({
  access_token: `access-${n}`,
  refresh_token: `refresh-${n}`,
  token_type: 'bearer',
  expires_in: 900,
});
const bearer = (config: InternalAxiosRequestConfig) => config.headers.get('Authorization');
const body = (config: InternalAxiosRequestConfig): unknown => JSON.parse(String(config.data));

let mock: ReturnType<typeof mockAdapter> | undefined;

beforeEach(() => {
  session.clear();
  session.setTokens({ access_token: 'access-0', refresh_token: 'refresh-0' });
});
afterEach(() => mock?.restore());

describe('auth header', () => {
  it('sends the access token from memory', async () => {
    mock = mockAdapter(client, () => ok([]));
    await client.get('/items');
    expect(bearer(mock.calls[0]!)).toBe('Bearer access-0');
  });

  it('sends no header without a token', async () => {
    session.clear();
    mock = mockAdapter(client, () => ok([]));
    await client.get('/items');
    expect(bearer(mock.calls[0]!)).toBeFalsy();
  });
});

describe('401 handling', () => {
  it('refreshes exactly once for five concurrent 401s and retries every request', async () => {
    mock = mockAdapter(client, async (config) => {
      if (config.url === '/auth/refresh') {
        await sleep(20); // keep the refresh in flight while the other 401s arrive
        const { refresh_token } = body(config) as { refresh_token: string };
        return refresh_token === 'refresh-0' ? ok(tokenPair(1)) : unauthorized();
      }
      return bearer(config) === 'Bearer access-1' ? ok({ url: config.url }) : unauthorized();
    });

    const urls = [1, 2, 3, 4, 5].map((i) => `/items/${i}`);
    const responses = await Promise.all(urls.map((url) => client.get<{ data: { url: string } }>(url)));

    expect(mock.callsTo('/auth/refresh')).toHaveLength(1);
    expect(responses.map((r) => r.data.data.url)).toEqual(urls);
    for (const url of urls) {
      expect(mock.callsTo(url).map(bearer)).toEqual(['Bearer access-0', 'Bearer access-1']);
    }
    expect(session.getAccessToken()).toBe('access-1');
    expect(session.getRefreshToken()).toBe('refresh-1');
  });

  it('ends the session and emits logged-out once when the refresh is rejected', async () => {
    const loggedOut = vi.fn();
    const unsubscribe = session.onLoggedOut(loggedOut);
    mock = mockAdapter(client, async (config) => {
      if (config.url === '/auth/refresh') {
        await sleep(10);
        return fail(401, 'UNAUTHORIZED', 'Refresh token revoked');
      }
      return unauthorized();
    });

    const results = await Promise.allSettled([1, 2, 3, 4, 5].map((i) => client.get(`/items/${i}`)));

    expect(mock.callsTo('/auth/refresh')).toHaveLength(1);
    for (const result of results) {
      expect(result.status).toBe('rejected');
      const reason = (result as PromiseRejectedResult).reason as APIError;
      expect(reason).toBeInstanceOf(APIError);
      expect(reason).toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
    }
    expect(loggedOut).toHaveBeenCalledTimes(1);
    expect(loggedOut).toHaveBeenCalledWith('refresh-failed');
    expect(session.getAccessToken()).toBeNull();
    expect(session.getRefreshToken()).toBeNull();
    unsubscribe();
  });

  it('retries a request only once: a second 401 is final', async () => {
    mock = mockAdapter(client, (config) => (config.url === '/auth/refresh' ? ok(tokenPair(1)) : unauthorized()));
    await expect(client.get('/items')).rejects.toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
    expect(mock.callsTo('/auth/refresh')).toHaveLength(1);
    expect(mock.callsTo('/items')).toHaveLength(2);
  });

  it('never refreshes for login itself (wrong password stays a 401)', async () => {
    mock = mockAdapter(client, () => fail(401, 'UNAUTHORIZED', 'Invalid credentials'));
    await expect(authApi.login({ email: 'a@example.com', password: 'wrong-password' })).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
    expect(mock.callsTo('/auth/refresh')).toHaveLength(0);
    expect(mock.calls).toHaveLength(1);
  });

  it('retries without a new refresh when the token changed while the request was in flight', async () => {
    mock = mockAdapter(client, (config) => {
      if (config.url === '/auth/refresh') return ok(tokenPair(9));
      if (bearer(config) === 'Bearer access-0') {
        session.setTokens({ access_token: 'access-2', refresh_token: 'refresh-2' }); // someone refreshed meanwhile
        return unauthorized();
      }
      return ok('fine');
    });
    const response = await client.get<{ data: string }>('/items');
    expect(response.data.data).toBe('fine');
    expect(mock.callsTo('/auth/refresh')).toHaveLength(0);
    expect(mock.calls.map(bearer)).toEqual(['Bearer access-0', 'Bearer access-2']);
  });

  it('keeps the session when the refresh fails for network reasons', async () => {
    const loggedOut = vi.fn();
    const unsubscribe = session.onLoggedOut(loggedOut);
    mock = mockAdapter(client, (config) => (config.url === '/auth/refresh' ? 'network-error' : unauthorized()));
    await expect(client.get('/items')).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(loggedOut).not.toHaveBeenCalled();
    expect(session.getRefreshToken()).toBe('refresh-0');
    unsubscribe();
  });

  it('refreshAccessToken without a refresh token ends the session', async () => {
    session.clear();
    const loggedOut = vi.fn();
    const unsubscribe = session.onLoggedOut(loggedOut);
    mock = mockAdapter(client, () => ok(tokenPair(1)));
    await expect(refreshAccessToken()).rejects.toMatchObject({ status: 401 });
    expect(mock.calls).toHaveLength(0);
    expect(loggedOut).toHaveBeenCalledWith('refresh-failed');
    unsubscribe();
  });
});

describe('logout', () => {
  it('revokes the refresh token and clears the session even if the server fails', async () => {
    const loggedOut = vi.fn();
    const unsubscribe = session.onLoggedOut(loggedOut);
    mock = mockAdapter(client, () => fail(500, 'INTERNAL_ERROR'));
    await expect(authApi.logout()).rejects.toBeInstanceOf(APIError);
    expect(body(mock.calls[0]!)).toEqual({ refresh_token: 'refresh-0' });
    expect(session.getRefreshToken()).toBeNull();
    expect(loggedOut).toHaveBeenCalledWith('logout');
    unsubscribe();
  });
});
