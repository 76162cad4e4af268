import { refreshAccessToken } from '@/services/api/client';
import { session } from '@/services/auth/session';
import type { SocketAuth } from '@/hooks/useItemUpdates';

/** WebSocket authentication backed by the HTTP session (shares its single-flight refresh). */
export const socketAuth: SocketAuth = {
  getToken: async () => session.getAccessToken() ?? refreshAccessToken(),
  refresh: () => refreshAccessToken(),
};
