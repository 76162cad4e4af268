import { AxiosError, AxiosHeaders, type AxiosInstance, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';

export interface MockReply {
  status: number;
  data?: unknown;
}

export type MockHandler = (config: InternalAxiosRequestConfig) => MockReply | 'network-error' | Promise<MockReply | 'network-error'>;

/**
 * Replace the transport of an axios instance: requests still run through the real
 * interceptors, the handler plays the server. Non-2xx replies reject like axios' own adapters.
 */
export function mockAdapter(client: AxiosInstance, handler: MockHandler) {
  const calls: InternalAxiosRequestConfig[] = [];
  const original = client.defaults.adapter;
  client.defaults.adapter = async (config: InternalAxiosRequestConfig) => {
    // Snapshot the headers: a retry reuses (and mutates) the same config object.
    calls.push({ ...config, headers: new AxiosHeaders(config.headers) });
    const reply = await handler(config);
    if (reply === 'network-error') {
      throw new AxiosError('Network Error', AxiosError.ERR_NETWORK, config, {});
    }
    const response: AxiosResponse = {
      data: reply.data,
      status: reply.status,
      statusText: String(reply.status),
      headers: {},
      config,
      request: {},
    };
    const ok = config.validateStatus ? config.validateStatus(reply.status) : reply.status < 400;
    if (ok) return response;
    const code = reply.status >= 500 ? AxiosError.ERR_BAD_RESPONSE : AxiosError.ERR_BAD_REQUEST;
    throw new AxiosError(`Request failed with status code ${reply.status}`, code, config, {}, response);
  };
  return {
    calls,
    /** Calls to one URL (e.g. '/auth/refresh'). */
    callsTo: (url: string) => calls.filter((c) => c.url === url),
    restore: () => {
      client.defaults.adapter = original;
    },
  };
}

export const ok = (data: unknown, status = 200): MockReply => ({ status, data: { success: true, data, message: null } });

export const fail = (status: number, error: string, message = error, details: Record<string, unknown> = {}): MockReply => ({
  status,
  data: { success: false, error, message, details },
});

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
