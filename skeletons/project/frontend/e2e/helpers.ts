import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { expect, type APIRequestContext, type Page, type TestInfo } from '@playwright/test';

/** Full-page screenshot into E2E_SCREENSHOT_DIR (default e2e/screenshots/). */
export async function snap(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const dir = process.env.E2E_SCREENSHOT_DIR ?? path.join(testInfo.project.testDir, 'screenshots');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}

export function uniqueEmail(): string {
  return `e2e-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}

/** `data` of a success envelope, failing the test with the body otherwise. */
export async function envelopeData<T>(response: { ok(): boolean; status(): number; json(): Promise<unknown> }): Promise<T> {
  const body = (await response.json()) as { success?: boolean; data?: T };
  expect(response.ok(), `HTTP ${response.status()}: ${JSON.stringify(body)}`).toBe(true);
  expect(body.success).toBe(true);
  return body.data as T;
}

/** Fails early, with a clear message, when the backend is not reachable through the proxy. */
export async function expectBackend(request: APIRequestContext): Promise<void> {
  const response = await request.get('/api/items', { failOnStatusCode: false });
  const type = response.headers()['content-type'] ?? '';
  expect(
    type.includes('application/json'),
    `GET /api/items answered ${response.status()} ${type}: is the backend running behind the proxy?`,
  ).toBe(true);
}
