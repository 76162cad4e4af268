import { defineConfig } from '@playwright/test';

// End-to-end specs run in the system's Chromium (Debian: `apt-get install chromium`), driven by
// Playwright; no browser download (`npx playwright install` is never needed).
//
// What the specs run against:
//   - E2E_BASE_URL set: that server as is (nginx in front of the built SPA, a dev server, ...),
//     with /api and /ws proxied to a backend whose access tokens live at most 10 s
//     (ACCESS_TOKEN_TTL_SECONDS=3): the auth flow waits for one to expire.
//   - otherwise Playwright starts the backend (e2e/serve-backend.mjs: fresh SQLite database,
//     3 s access tokens; or VITE_BACKEND_URL, an already running one) and `vite preview` of the
//     last `npm run build` on port 4173, proxying to it.
const external = process.env.E2E_BASE_URL;
const baseURL = external ?? 'http://127.0.0.1:4173';
const backendPort = process.env.E2E_BACKEND_PORT ?? '5099';
const backendURL = process.env.VITE_BACKEND_URL ?? `http://127.0.0.1:${backendPort}`;

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
    // For a local HTTPS front with a throwaway certificate (fsi's own e2e test sets it).
    ignoreHTTPSErrors: Boolean(process.env.E2E_IGNORE_HTTPS_ERRORS),
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
  webServer: external
    ? undefined
    : [
        ...(process.env.VITE_BACKEND_URL
          ? []
          : [
              {
                command: 'node e2e/serve-backend.mjs',
                url: `${backendURL}/health`,
                env: { PORT: backendPort },
                reuseExistingServer: false,
                timeout: 120_000,
              },
            ]),
        {
          command: 'npm run preview',
          url: baseURL,
          env: { VITE_BACKEND_URL: backendURL },
          reuseExistingServer: false,
          timeout: 30_000,
        },
      ],
});
