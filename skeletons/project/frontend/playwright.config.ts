import { defineConfig } from '@playwright/test';

// End-to-end specs run in the system's Chromium (Debian: `apt-get install chromium`), driven by
// Playwright; no browser download (`npx playwright install` is never needed).
//
// The app under test must be served with /api and /ws proxied to a running backend:
//   - E2E_BASE_URL set: use that server as is (nginx in front of the built SPA, `vite preview`, ...);
//   - otherwise `vite preview` is started on port 4173 (run `npm run build` first), proxying to
//     VITE_BACKEND_URL (default http://127.0.0.1:5000).
// The auth flow waits for the access token to expire: start the backend with
// ACCESS_TOKEN_TTL_SECONDS=3 (anything up to 10 works).
const baseURL = process.env.E2E_BASE_URL ?? 'http://127.0.0.1:4173';

export default defineConfig({
  testDir: './e2e',
  outputDir: './test-results',
  timeout: 120_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: Boolean(process.env.CI),
  reporter: [['list']],
  use: {
    baseURL,
    browserName: 'chromium',
    headless: true,
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  webServer: process.env.E2E_BASE_URL
    ? undefined
    : {
        command: 'npm run preview',
        url: baseURL,
        reuseExistingServer: true,
        timeout: 30_000,
      },
});
