/**
 * Token store and session events. The API layer never navigates: when the session ends
 * (refresh rejected, logout in another tab) it emits `logged-out`, and the UI (AuthContext)
 * decides what to show.
 *
 * Where the tokens live:
 * - The access token is kept in memory only. It is short-lived and is what every request
 *   carries; an XSS payload cannot read it from storage, and a reload simply refreshes it.
 * - The refresh token is kept in localStorage so the session survives reloads and is shared
 *   by the user's tabs. Trade-off: any script running on this origin (an XSS bug, a compromised
 *   npm dependency) can read localStorage and steal it. What limits the damage: the backend
 *   rotates refresh tokens on every use and revokes the whole family when an old one is
 *   replayed, logout revokes it server-side; keep a strict Content-Security-Policy in front of
 *   the app (nginx/) so injected scripts are hard to run in the first place.
 *   The stronger alternative is an httpOnly, Secure, SameSite=Strict cookie set by the backend
 *   on /api/auth/refresh (plus CSRF protection); switch to it if your threat model needs it.
 *   sessionStorage was not chosen: it shrinks the window only slightly (still readable by XSS)
 *   while logging the user out of every new tab.
 */

export const REFRESH_TOKEN_KEY = 'auth.refresh_token';

export type LogoutReason = 'logout' | 'refresh-failed' | 'other-tab';
type Listener = (reason: LogoutReason) => void;

let accessToken: string | null = null;
const listeners = new Set<Listener>();

function storage(): Storage | null {
  try {
    return typeof window === 'undefined' ? null : window.localStorage;
  } catch {
    return null; // storage disabled (privacy mode, sandboxed iframe)
  }
}

export const session = {
  getAccessToken(): string | null {
    return accessToken;
  },

  getRefreshToken(): string | null {
    return storage()?.getItem(REFRESH_TOKEN_KEY) ?? null;
  },

  setTokens(tokens: { access_token: string; refresh_token: string }): void {
    accessToken = tokens.access_token;
    storage()?.setItem(REFRESH_TOKEN_KEY, tokens.refresh_token);
  },

  /** Forget both tokens (no event). */
  clear(): void {
    accessToken = null;
    storage()?.removeItem(REFRESH_TOKEN_KEY);
  },

  /** Forget both tokens and tell the UI the session is over. */
  end(reason: LogoutReason): void {
    session.clear();
    for (const listener of [...listeners]) listener(reason);
  },

  /** Subscribe to the end of the session; returns the unsubscribe function. */
  onLoggedOut(listener: Listener): () => void {
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  },
};

// Logging out in one tab removes the refresh token from localStorage; other tabs follow.
if (typeof window !== 'undefined') {
  window.addEventListener('storage', (event) => {
    const removed = (event.key === REFRESH_TOKEN_KEY || event.key === null) && event.newValue === null;
    if (removed && accessToken !== null) {
      session.end('other-tab');
    }
  });
}
