import { expect, test, type APIRequestContext } from '@playwright/test';
import { envelopeData, expectBackend, snap, uniqueEmail } from './helpers';

interface Tokens {
  access_token: string;
  expires_in: number;
}

/**
 * The whole life of a session, in one browser: register, sign in, see the list, receive live
 * updates made by another client, survive the expiry of the access token, log out.
 */
test('register, sign in, live updates, token refresh, logout', async ({ page, playwright, baseURL }, testInfo) => {
  const email = uniqueEmail();
  const password = 'correct-horse-battery';
  await expectBackend(page.request);

  // A second client of the same user (another device): plain API calls with its own tokens.
  const other: APIRequestContext = await playwright.request.newContext({ baseURL });
  const asOther = async () => {
    const tokens = await envelopeData<Tokens>(await other.post('/api/auth/login', { data: { email, password } }));
    return { Authorization: `Bearer ${tokens.access_token}` };
  };

  let expiresIn = Number.POSITIVE_INFINITY; // the access-token lifetime the backend announced

  await test.step('a protected page sends an anonymous visitor to sign in', async () => {
    await page.goto('/items');
    await expect(page).toHaveURL(/\/login$/);
    await expect(page.getByTestId('login-form')).toBeVisible();
    await snap(page, testInfo, '01-protected-redirects-to-login');
  });

  await test.step('register', async () => {
    await page.getByRole('link', { name: 'Create one' }).click();
    await page.getByTestId('register-email').fill(email);
    await page.getByTestId('register-display-name').fill('E2E Tester');
    await page.getByTestId('register-password').fill(password);
    await snap(page, testInfo, '02-register-form');
    await page.getByTestId('register-submit').click();
    await expect(page).toHaveURL(/\/items$/);
    await expect(page.getByTestId('items-empty')).toBeVisible();
    await expect(page.getByTestId('current-user')).toHaveText('E2E Tester');
  });

  await test.step('log out and sign in again', async () => {
    await page.getByTestId('logout-button').click();
    await expect(page).toHaveURL(/\/login$/);
    await page.getByTestId('login-email').fill(email);
    await page.getByTestId('login-password').fill('wrong-password');
    await page.getByTestId('login-submit').click();
    await expect(page.getByTestId('login-error')).toHaveText('Wrong email or password.');
    await snap(page, testInfo, '03-login-wrong-password');
    await page.getByTestId('login-password').fill(password);
    const login = page.waitForResponse((r) => r.url().endsWith('/api/auth/login') && r.ok());
    await page.getByTestId('login-submit').click();
    expiresIn = (await envelopeData<Tokens>(await login)).expires_in;
    await expect(page).toHaveURL(/\/items$/);
    await expect(page.getByTestId('items-empty')).toBeVisible();
    await expect(page.getByTestId('live-status')).toHaveAttribute('data-status', 'open');
    await snap(page, testInfo, '04-empty-list');
  });

  let itemId = 0;
  await test.step('create an item', async () => {
    await page.getByTestId('create-item-title').fill('Desk lamp');
    await page.getByTestId('create-item-price').fill('19.90');
    await page.getByTestId('create-item-submit').click();
    const row = page.getByTestId('item-row').filter({ hasText: 'Desk lamp' });
    await expect(row).toHaveCount(1);
    await expect(row.getByTestId('item-price')).toHaveText('19.90');
    itemId = Number(await row.getAttribute('data-item-id'));
    expect(itemId).toBeGreaterThan(0);
    await snap(page, testInfo, '05-item-created');
  });

  await test.step('changes made by another client arrive live over the WebSocket', async () => {
    await page.evaluate(() => {
      (window as unknown as { e2eNoReload: boolean }).e2eNoReload = true;
    });
    const headers = await asOther();
    await envelopeData(await other.patch(`/api/items/${itemId}`, { headers, data: { title: 'Desk lamp (edited elsewhere)', status: 'active' } }));
    await envelopeData(await other.post('/api/items', { headers, data: { title: 'Created elsewhere', price: '5.00' } }));

    const edited = page.locator(`[data-testid="item-row"][data-item-id="${itemId}"]`);
    await expect(edited.getByTestId('item-title')).toHaveText('Desk lamp (edited elsewhere)');
    await expect(edited.getByTestId('item-status')).toHaveText('active');
    await expect(page.getByTestId('item-row').first().getByTestId('item-title')).toHaveText('Created elsewhere');
    await expect(page.getByTestId('item-row')).toHaveCount(2);
    // Live, not a reload:
    expect(await page.evaluate(() => (window as unknown as { e2eNoReload?: boolean }).e2eNoReload)).toBe(true);
    await snap(page, testInfo, '06-live-update');
  });

  await test.step('the access token expires; the refresh keeps the user signed in', async () => {
    expect(expiresIn, 'start the backend with ACCESS_TOKEN_TTL_SECONDS=3 (at most 10) for this test').toBeLessThanOrEqual(10);
    // Whatever the browser holds now is at most expiresIn old: afterwards it is certainly expired.
    await page.waitForTimeout((expiresIn + 1.5) * 1000);

    const refresh = page.waitForResponse((r) => r.url().endsWith('/api/auth/refresh'));
    const row = page.locator(`[data-testid="item-row"][data-item-id="${itemId}"]`);
    await row.getByTestId('item-edit').click();
    await page.getByTestId('edit-item-price').fill('21.00');
    await page.getByTestId('edit-item-submit').click();
    expect((await refresh).status()).toBe(200);
    await expect(row.getByTestId('item-price')).toHaveText('21.00');
    await expect(page).toHaveURL(/\/items$/);

    // The socket opened before the expiry still delivers.
    const headers = await asOther();
    await envelopeData(await other.patch(`/api/items/${itemId}`, { headers, data: { title: 'Lamp after refresh' } }));
    await expect(row.getByTestId('item-title')).toHaveText('Lamp after refresh');
    await snap(page, testInfo, '07-after-token-refresh');
  });

  await test.step('a reload keeps the session (refresh token) and reconnects live updates', async () => {
    await page.reload();
    await expect(page).toHaveURL(/\/items$/);
    await expect(page.getByTestId('item-row')).toHaveCount(2);
    await expect(page.getByTestId('live-status')).toHaveAttribute('data-status', 'open');
    await snap(page, testInfo, '08-after-reload');
  });

  await test.step('log out; protected pages send the user to sign in', async () => {
    await page.getByTestId('logout-button').click();
    await expect(page).toHaveURL(/\/login$/);
    expect(await page.evaluate(() => window.localStorage.getItem('auth.refresh_token'))).toBeNull();
    await snap(page, testInfo, '09-logged-out');
    await page.goto('/items');
    await expect(page).toHaveURL(/\/login$/);
    await expect(page.getByTestId('login-form')).toBeVisible();
    await snap(page, testInfo, '10-protected-after-logout');
  });

  await other.dispose();
});
