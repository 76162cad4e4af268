// Serves the project's backend for `npm run test:e2e` when no E2E_BASE_URL is given:
// a fresh SQLite database, migrations applied, and short-lived access tokens (the auth
// flow waits for one to expire). Playwright starts it (playwright.config.ts, webServer)
// and stops it with its whole process group. Needs `uv` and a synced backend/.venv.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';

const backend = path.resolve(import.meta.dirname, '..', '..', 'backend');
const port = process.env.PORT ?? '5099';
// A fixed place, emptied at every start (Playwright may stop us with SIGKILL: no cleanup then).
const dataDir = path.resolve(import.meta.dirname, '..', 'node_modules', '.cache', 'e2e-backend');
rmSync(dataDir, { recursive: true, force: true });
mkdirSync(dataDir, { recursive: true });
const env = {
  ...process.env,
  APP_ENV: 'development',
  DATABASE_URL: `sqlite+aiosqlite:///${path.join(dataDir, 'e2e.db')}`,
  // A throwaway secret: this server only ever holds test users.
  JWT_SECRET: process.env.E2E_JWT_SECRET ?? 'e2e-only-secret-not-for-production-0123456789abcdef',
  ACCESS_TOKEN_TTL_SECONDS: process.env.ACCESS_TOKEN_TTL_SECONDS ?? '3',
  // Every spec registers its own user from this one address: lift the per-address limit.
  REGISTER_RATE_LIMIT: process.env.REGISTER_RATE_LIMIT ?? '1000',
  REDIS_URL: '',
};

const migrate = spawnSync('uv', ['run', '--no-sync', 'alembic', 'upgrade', 'head'], { cwd: backend, env, stdio: 'inherit' });
if (migrate.status !== 0) {
  console.error(`e2e backend: migrations failed (is backend/ synced? run \`uv sync\` in ${backend})`);
  process.exit(1);
}

const server = spawn('uv', ['run', '--no-sync', 'gunicorn', '--config', 'gunicorn.conf.py', '--bind', `127.0.0.1:${port}`, 'app.wsgi:app'], {
  cwd: backend,
  env,
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.kill(signal));
}
server.on('exit', (code, signal) => {
  process.exit(code ?? (signal ? 0 : 1));
});
