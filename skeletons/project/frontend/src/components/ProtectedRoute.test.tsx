import { act, render, screen } from '@testing-library/react';
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

vi.mock('@/services/api/auth', () => ({
  authApi: { login: vi.fn(), register: vi.fn(), logout: vi.fn(), me: vi.fn() },
}));
vi.mock('@/services/api/items', () => ({
  itemsApi: { list: vi.fn(), get: vi.fn(), create: vi.fn(), update: vi.fn(), remove: vi.fn() },
}));

const user = { id: 1, email: 'ada@example.com', display_name: null, created_at: '2024-01-01T00:00:00' };

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
  session.clear();
  vi.mocked(itemsApi.list).mockResolvedValue(makePage([]));
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('protected routes', () => {
  it('send an anonymous visitor to the login page', () => {
    renderAt('/items');
    expect(screen.getByTestId('login-form')).toBeTruthy();
    expect(authApi.me).not.toHaveBeenCalled();
  });

  it('restore the session from the stored refresh token', async () => {
    session.setTokens({ access_token: 'a', refresh_token: 'r' });
    vi.mocked(authApi.me).mockResolvedValue(user);
    renderAt('/items');
    expect(screen.getByTestId('auth-loading')).toBeTruthy();
    expect(await screen.findByTestId('items-empty')).toBeTruthy();
    expect(screen.getByTestId('current-user').textContent).toBe('ada@example.com');
  });

  it('fall back to login when the stored session is dead', async () => {
    session.setTokens({ access_token: 'a', refresh_token: 'r' });
    vi.mocked(authApi.me).mockRejectedValue(new APIError('UNAUTHORIZED', 'expired', 401));
    renderAt('/items');
    expect(await screen.findByTestId('login-form')).toBeTruthy();
  });

  it('follow a logged-out event from the API layer', async () => {
    session.setTokens({ access_token: 'a', refresh_token: 'r' });
    vi.mocked(authApi.me).mockResolvedValue(user);
    renderAt('/items');
    await screen.findByTestId('items-empty');
    act(() => session.end('refresh-failed'));
    expect(await screen.findByTestId('login-form')).toBeTruthy();
  });

  it('log out from the header', async () => {
    session.setTokens({ access_token: 'a', refresh_token: 'r' });
    vi.mocked(authApi.me).mockResolvedValue(user);
    vi.mocked(authApi.logout).mockImplementation(async () => session.end('logout'));
    renderAt('/items');
    await userEvent.click(await screen.findByTestId('logout-button'));
    expect(await screen.findByTestId('login-form')).toBeTruthy();
    expect(session.getRefreshToken()).toBeNull();
  });
});
