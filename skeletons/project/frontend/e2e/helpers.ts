import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { expect, type APIRequestContext, type Page, type TestInfo } from '@playwright/test';

/** Full-page screenshot into E2E_SCREENSHOT_DIR (default e2e/screenshots/). */
export async function snap(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const dir = artifactsDir(testInfo);
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

/** Where screenshots and the UX report go. */
export function artifactsDir(testInfo: TestInfo): string {
  return process.env.E2E_SCREENSHOT_DIR ?? path.join(testInfo.project.testDir, 'screenshots');
}

/** A message a person can read: a capital first, a full stop last, no regex or developer words. */
export const SENTENCE = /^[A-Z“"‘'].*[.!?)]$/s;
export const DEVELOPER_TALK = /[\\^$]|\/.+\/|\bexpected\b|\bInvalid\b|Too (big|small)|\bregex\b|\bpattern\b|\bstring\b|\bundefined\b|\bNaN\b|\bnull\b/;

export function expectSentence(text: string, where = ''): void {
  expect(text, `not a sentence${where ? ` (${where})` : ''}: "${text}"`).toMatch(SENTENCE);
  expect(text, `developer talk${where ? ` (${where})` : ''}: "${text}"`).not.toMatch(DEVELOPER_TALK);
}

/** Every visible message (field errors, form errors, alerts, toasts): each must be a sentence. */
export async function expectVisibleMessagesAreSentences(page: Page, where: string): Promise<string[]> {
  const texts = await page
    .locator('.field-error, .form-error, [role="alert"], .toast > span:first-child')
    .evaluateAll((nodes) =>
      nodes
        .filter((n) => (n as HTMLElement).offsetParent !== null || getComputedStyle(n).position === 'fixed')
        .map((n) => (n.textContent ?? '').trim())
        .filter((t) => t !== ''),
    );
  for (const text of texts) expectSentence(text, where);
  return texts;
}

/** How many CSS pixels the page is wider than the viewport (0: no horizontal scrolling). */
export async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - window.innerWidth);
}

/** Visible controls smaller than 44 × 44 px (links inside running text are exempt). */
export async function smallTouchTargets(page: Page): Promise<string[]> {
  return page.locator('button, input, select, textarea, nav a, a.button-link').evaluateAll((nodes) =>
    nodes
      .filter((n) => (n as HTMLElement).offsetParent !== null && !(n as HTMLInputElement).hidden)
      .map((n) => ({ n, r: n.getBoundingClientRect() }))
      .filter(({ r }) => r.height < 43.5 || r.width < 43.5)
      .map(({ n, r }) => `${n.tagName.toLowerCase()}[${n.getAttribute('data-testid') ?? n.textContent?.trim()}] ${Math.round(r.width)}×${Math.round(r.height)}`),
  );
}
