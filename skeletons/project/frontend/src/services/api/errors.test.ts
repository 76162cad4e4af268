import axios from 'axios';
import { afterEach, describe, expect, it } from 'vitest';
import { fail, mockAdapter, ok } from '@/test/mockAdapter';
import { client, unwrap, type Envelope } from './client';
import { APIError, toAPIError } from './errors';

let mock: ReturnType<typeof mockAdapter> | undefined;
afterEach(() => mock?.restore());

async function rejection(promise: Promise<unknown>): Promise<APIError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(APIError);
    return error as APIError;
  }
  throw new Error('expected the request to fail');
}

describe('API client error mapping', () => {
  it('unwraps the success envelope', async () => {
    mock = mockAdapter(client, () => ok({ id: 7 }));
    await expect(unwrap(client.get<Envelope<{ id: number }>>('/items/7'))).resolves.toEqual({ id: 7 });
    expect(mock.calls[0]?.baseURL).toBe('/api');
  });

  it('maps the error envelope to an APIError', async () => {
    mock = mockAdapter(client, () => fail(404, 'NOT_FOUND', 'Item 7 not found', { id: 7 }));
    const error = await rejection(client.get('/items/7'));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toBe('Item 7 not found');
    expect(error.status).toBe(404);
    expect(error.details).toEqual({ id: 7 });
  });

  it('exposes validation details per field', async () => {
    mock = mockAdapter(client, () =>
      fail(400, 'VALIDATION_ERROR', 'Invalid input', {
        fields: [
          { loc: ['body', 'price'], msg: 'Input should be greater than or equal to 0', type: 'greater_than_equal' },
          { loc: ['title'], msg: 'String should have at least 1 character', type: 'string_too_short' },
        ],
      }),
    );
    const error = await rejection(client.post('/items', {}));
    expect(error.code).toBe('VALIDATION_ERROR');
    // As sentences for the form, keyed by the last element of `loc`.
    expect(error.fieldErrors()).toEqual({
      price: 'Enter 0 or more.',
      title: 'Title is required.',
    });
  });

  it('maps a response without the envelope (proxy error page) by status', async () => {
    mock = mockAdapter(client, () => ({ status: 502, data: '<html>Bad Gateway</html>' }));
    const error = await rejection(client.get('/items'));
    expect(error.code).toBe('BAD_GATEWAY');
    expect(error.status).toBe(502);
  });

  it('maps network errors to NETWORK_ERROR with status 0', async () => {
    mock = mockAdapter(client, () => 'network-error');
    const error = await rejection(client.get('/items'));
    expect(error.code).toBe('NETWORK_ERROR');
    expect(error.status).toBe(0);
    expect(error.isNetworkError).toBe(true);
  });

  it('maps timeouts to NETWORK_ERROR', () => {
    const timeout = new axios.AxiosError('timeout of 30000ms exceeded', 'ECONNABORTED');
    expect(toAPIError(timeout)).toMatchObject({ code: 'NETWORK_ERROR', status: 0 });
  });

  it('maps cancellation to CANCELLED', async () => {
    mock = mockAdapter(client, () => ok(null));
    const controller = new AbortController();
    controller.abort();
    const error = await rejection(client.get('/items', { signal: controller.signal }));
    expect(error.code).toBe('CANCELLED');
  });

  it('wraps non-axios errors', () => {
    expect(toAPIError(new Error('boom'))).toMatchObject({ code: 'UNKNOWN_ERROR', message: 'boom', status: 0 });
    const existing = new APIError('CONFLICT', 'taken', 409);
    expect(toAPIError(existing)).toBe(existing);
  });
});
