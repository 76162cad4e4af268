import { session } from '@/services/auth/session';
import type { AuthResponse, LoginRequest, LogoutRequest, RegisterRequest, UserResponse } from '@/types';
import { client, unwrap, type Envelope } from './client';

export const authApi = {
  /** Create an account; the user is signed in afterwards. */
  async register(input: RegisterRequest): Promise<UserResponse> {
    const auth = await unwrap(client.post<Envelope<AuthResponse>>('/auth/register', input, { skipAuthRefresh: true }));
    session.setTokens(auth);
    return auth.user;
  },

  async login(input: LoginRequest): Promise<UserResponse> {
    const auth = await unwrap(client.post<Envelope<AuthResponse>>('/auth/login', input, { skipAuthRefresh: true }));
    session.setTokens(auth);
    return auth.user;
  },

  /** Revoke the refresh token server-side, then forget the tokens whatever the server said. */
  async logout(): Promise<void> {
    const refreshToken = session.getRefreshToken();
    try {
      if (refreshToken) {
        const body: LogoutRequest = { refresh_token: refreshToken };
        await client.post<Envelope<null>>('/auth/logout', body, { skipAuthRefresh: true });
      }
    } finally {
      session.end('logout');
    }
  },

  me(options: { signal?: AbortSignal } = {}): Promise<UserResponse> {
    return unwrap(client.get<Envelope<UserResponse>>('/auth/me', { signal: options.signal }));
  },
};
