import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { MemoryRouter } from 'react-router-dom';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AppRoutes } from '@/App';
import { AuthProvider } from '@/contexts/AuthContext';
import { authApi } from '@/services/api/auth';
import { APIError } from '@/services/api/errors';
import { itemsApi } from '@/services/api/items';
import { session } from '@/services/auth/session';
import { FakeWebSocket } from '@/test/fakeWebSocket';
import { makePage } from '@/test/fixtures';
import type { UserResponse } from '@/types';

vi.mock('@/services/api/auth', () => ({
  authApi: { login: vi.fn(), register: vi.fn(), logout: vi.fn(), me: vi.fn() },
}));
vi.mock('@/services/api/items', () => ({
  itemsApi: { list: vi.fn(), get: vi.fn(), create: vi.fn(), update: vi.fn(), remove: vi.fn() },
}));

const user: UserResponse = { id: 1, email: 'ada@example.com', display_name: 'Ada', created_at: '2024-01-01T00:00:00' };

function renderAt(path: string) {
  return render(
    <MemoryRouter initialEntries={[path]}>
      <AuthProvider>
        <AppRoutes />
      </AuthProvider>
    </MemoryRouter>,
  );
}

beforeEach(() => {
  vi.resetAllMocks();
  vi.stubGlobal('WebSocket', FakeWebSocket); // live updates (if enabled) connect to nothing
  vi.mocked(itemsApi.list).mockResolvedValue(makePage([]));
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('LoginPage', () => {
  it('validates the form before calling the API', async () => {
    renderAt('/login');
    await userEvent.click(screen.getByTestId('login-submit'));
    expect(screen.getByTestId('login-email-error').textContent).toBe('Email is required.');
    expect(screen.getByTestId('login-password-error').textContent).toBe('Password is required.');
    expect(screen.getByTestId('login-email').getAttribute('aria-invalid')).toBe('true');
    expect(authApi.login).not.toHaveBeenCalled();
  });

  it('shows wrong credentials', async () => {
    vi.mocked(authApi.login).mockRejectedValue(new APIError('UNAUTHORIZED', 'Invalid credentials', 401));
    renderAt('/login');
    await userEvent.type(screen.getByTestId('login-email'), 'ada@example.com');
    await userEvent.type(screen.getByTestId('login-password'), 'wrong-password');
    await userEvent.click(screen.getByTestId('login-submit'));
    expect((await screen.findByTestId('login-error')).textContent).toBe('Wrong email or password.');
  });

  it('says when to try again after too many attempts', async () => {
    vi.mocked(authApi.login).mockRejectedValue(
      new APIError('RATE_LIMITED', 'Too many failed logins; try again in 300 s', 429, { retry_after: 300 }),
    );
    renderAt('/login');
    await userEvent.type(screen.getByTestId('login-email'), 'ada@example.com');
    await userEvent.type(screen.getByTestId('login-password'), 'wrong-password');
    await userEvent.click(screen.getByTestId('login-submit'));
    expect((await screen.findByTestId('login-error')).textContent).toMatch(
      /^Too many failed sign-in attempts\. Try again in 5 minutes \(at \d{1,2}:\d{2}.*\)\.$/,
    );
  });

  it('signs in and goes to the page that required it', async () => {
    vi.mocked(authApi.login).mockImplementation(async () => {
      session.setTokens({ access_token: 'access', refresh_token: 'refresh' }); // as the real login does
      return user;
    });
    renderAt('/items');
    // Not signed in: the protected route sent us to the login page.
    await userEvent.type(await screen.findByTestId('login-email'), 'ada@example.com');
    await userEvent.type(screen.getByTestId('login-password'), 'correct-horse');
    await userEvent.click(screen.getByTestId('login-submit'));
    expect(await screen.findByTestId('items-empty')).toBeTruthy();
    expect(authApi.login).toHaveBeenCalledWith({ email: 'ada@example.com', password: 'correct-horse' });
    expect(screen.getByTestId('current-user').textContent).toBe('Ada');
  });
});
