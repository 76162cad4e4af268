import type { ItemCreateInput, ItemResponse, ItemUpdateInput, Page } from '@/types';
import { client, unwrap, type Envelope } from './client';

export interface ListParams {
  page?: number;
  page_size?: number;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

export const itemsApi = {
  list(params: ListParams = {}, options: RequestOptions = {}): Promise<Page<ItemResponse>> {
    return unwrap(client.get<Envelope<Page<ItemResponse>>>('/items', { params, signal: options.signal }));
  },

  get(id: number, options: RequestOptions = {}): Promise<ItemResponse> {
    return unwrap(client.get<Envelope<ItemResponse>>(`/items/${id}`, { signal: options.signal }));
  },

  create(input: ItemCreateInput): Promise<ItemResponse> {
    return unwrap(client.post<Envelope<ItemResponse>>('/items', input));
  },

  update(id: number, input: ItemUpdateInput): Promise<ItemResponse> {
    return unwrap(client.patch<Envelope<ItemResponse>>(`/items/${id}`, input));
  },

  async remove(id: number): Promise<void> {
    await client.delete<Envelope<null>>(`/items/${id}`);
  },
};
