import { createContext, useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import { authApi } from '@/services/api/auth';
import { session } from '@/services/auth/session';
import type { LoginRequest, RegisterRequest, UserResponse } from '@/types';

export type AuthStatus = 'loading' | 'authenticated' | 'anonymous';

export interface AuthContextValue {
  status: AuthStatus;
  user: UserResponse | null;
  isAuthenticated: boolean;
  login: (credentials: LoginRequest) => Promise<void>;
  register: (input: RegisterRequest) => Promise<void>;
  logout: () => Promise<void>;
}

export const AuthContext = createContext<AuthContextValue | undefined>(undefined);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<UserResponse | null>(null);
  // With a stored refresh token we do not know yet: /auth/me will refresh and tell us.
  const [status, setStatus] = useState<AuthStatus>(() => (session.getRefreshToken() ? 'loading' : 'anonymous'));

  // Restore the session after a reload: the access token lived in memory and is gone, so the
  // first /auth/me gets a 401, the client refreshes with the stored refresh token and retries.
  useEffect(() => {
    if (!session.getRefreshToken()) return;
    const controller = new AbortController();
    authApi
      .me({ signal: controller.signal })
      .then((me) => {
        setUser(me);
        setStatus('authenticated');
      })
      .catch(() => {
        if (controller.signal.aborted) return;
        setUser(null);
        setStatus('anonymous');
      });
    return () => controller.abort();
  }, []);

  // The API layer ends the session (refresh rejected, logout elsewhere); we only follow.
  useEffect(
    () =>
      session.onLoggedOut(() => {
        setUser(null);
        setStatus('anonymous');
      }),
    [],
  );

  const login = useCallback(async (credentials: LoginRequest) => {
    const me = await authApi.login(credentials);
    setUser(me);
    setStatus('authenticated');
  }, []);

  const register = useCallback(async (input: RegisterRequest) => {
    const me = await authApi.register(input);
    setUser(me);
    setStatus('authenticated');
  }, []);

  const logout = useCallback(async () => {
    try {
      await authApi.logout();
    } catch {
      // The server could not revoke the token (offline?); the local session is gone anyway.
    }
  }, []);

  const value = useMemo<AuthContextValue>(
    () => ({ status, user, isAuthenticated: status === 'authenticated', login, register, logout }),
    [status, user, login, register, logout],
  );

  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}
