import type { ItemResponse, Page } from '@/types';

export function makeItem(overrides: Partial<ItemResponse> = {}): ItemResponse {
  const id = overrides.id ?? 1;
  return {
    id,
    title: `Item ${id}`,
    description: null,
    price: '9.90',
    status: 'draft',
    owner_id: 1,
    created_at: '2024-01-02T03:04:05.000001',
    updated_at: '2024-01-02T03:04:05.000001',
    ...overrides,
  };
}

export function makePage(items: ItemResponse[], overrides: Partial<Page<ItemResponse>> = {}): Page<ItemResponse> {
  return { items, total: items.length, page: 1, page_size: 20, ...overrides };
}
