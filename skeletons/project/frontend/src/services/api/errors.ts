import axios from 'axios';
import { humanize, retryText, sentence, serverIssueMessage, type FieldIssue } from '@/utils/messages';

export type { FieldIssue } from '@/utils/messages';

/** The error envelope every backend error uses (see the API contract). */
interface ErrorEnvelope {
  success: false;
  error: string;
  message: string;
  details?: Record<string, unknown>;
}

/**
 * The only error type the API layer ever rejects with. Components switch on `code`
 * (the backend's error code, or NETWORK_ERROR / CANCELLED / UNKNOWN_ERROR for failures
 * that never produced a response; `status` is 0 for those).
 */
export class APIError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: Record<string, unknown>;

  constructor(code: string, message: string, status: number, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'APIError';
    this.code = code;
    this.status = status;
    this.details = details;
  }

  get isNetworkError(): boolean {
    return this.code === 'NETWORK_ERROR';
  }

  /** Seconds the server asked us to wait (`details.retry_after` of a 429 or 503), if any. */
  get retryAfter(): number | null {
    const value = this.details.retry_after;
    return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : null;
  }

  /**
   * Validation errors keyed by field name (last element of `loc`), as plain sentences for the
   * person filling the form (`labels` names the fields as the form does).
   */
  fieldErrors(labels: Record<string, string> = {}): Record<string, string> {
    const fields = this.details.fields;
    const out: Record<string, string> = {};
    if (!Array.isArray(fields)) return out;
    for (const issue of fields as FieldIssue[]) {
      const key = issue?.loc?.length ? String(issue.loc[issue.loc.length - 1]) : '_';
      if (key in out || typeof issue.msg !== 'string') continue;
      out[key] = serverIssueMessage(issue, labels[key] ?? humanize(key));
    }
    return out;
  }
}

const CODE_BY_STATUS: Record<number, string> = {
  400: 'VALIDATION_ERROR',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  422: 'VALIDATION_ERROR',
  429: 'RATE_LIMITED',
  500: 'INTERNAL_ERROR',
  502: 'BAD_GATEWAY',
  503: 'SERVICE_UNAVAILABLE',
  504: 'GATEWAY_TIMEOUT',
};

function isErrorEnvelope(body: unknown): body is ErrorEnvelope {
  return (
    typeof body === 'object' &&
    body !== null &&
    (body as { success?: unknown }).success === false &&
    typeof (body as { error?: unknown }).error === 'string'
  );
}

function codeForStatus(status: number): string {
  return CODE_BY_STATUS[status] ?? (status >= 500 ? 'INTERNAL_ERROR' : 'HTTP_ERROR');
}

/** Map anything thrown by axios (or by our own code) to an APIError. */
export function toAPIError(error: unknown): APIError {
  if (error instanceof APIError) return error;
  if (axios.isCancel(error)) return new APIError('CANCELLED', 'The request was cancelled', 0);
  if (axios.isAxiosError(error)) {
    const response = error.response;
    if (response) {
      const body: unknown = response.data;
      if (isErrorEnvelope(body)) {
        return new APIError(body.error, body.message || `Request failed (${response.status})`, response.status, body.details ?? {});
      }
      // Not our envelope: a proxy page (nginx 502), an HTML 404 from a static server, ...
      return new APIError(codeForStatus(response.status), `Request failed with status ${response.status}`, response.status);
    }
    if (error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT') {
      return new APIError('NETWORK_ERROR', 'The server took too long to answer', 0);
    }
    return new APIError('NETWORK_ERROR', 'Cannot reach the server. Check your connection.', 0);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new APIError('UNKNOWN_ERROR', message, 0);
}

/**
 * A plain sentence for the person using the app: what happened and what to do. The backend's
 * own message is used only where it is written for people (a conflict, a weak password).
 */
export function describeError(error: unknown, now: Date = new Date()): string {
  const e = toAPIError(error);
  const wait = e.retryAfter;
  switch (e.code) {
    case 'NETWORK_ERROR':
      return e.message.includes('too long')
        ? 'The server took too long to answer. Try again.'
        : 'Cannot reach the server. Check your connection and try again.';
    case 'RATE_LIMITED':
      return `Too many attempts. Try again ${retryText(wait ?? 60, now)}.`;
    case 'SERVICE_UNAVAILABLE':
      return `The server is busy. Try again ${retryText(wait ?? 5, now)}.`;
    case 'BAD_GATEWAY':
    case 'GATEWAY_TIMEOUT':
      return 'The server is not answering right now. Try again in a moment.';
    case 'UNAUTHORIZED':
      return 'Your session has ended. Sign in again.';
    case 'FORBIDDEN':
      return 'You are not allowed to do that.';
    case 'NOT_FOUND':
      return 'It no longer exists; it may have been deleted elsewhere.';
    case 'CONFLICT':
      return sentence(e.message);
    case 'VALIDATION_ERROR': {
      const messages = Object.values(e.fieldErrors());
      return messages.length > 0 ? messages.join(' ') : 'Some of the values were not accepted. Check them and try again.';
    }
    case 'PAYLOAD_TOO_LARGE':
      return 'That is too much to send at once.';
    case 'CANCELLED':
      return 'The request was cancelled.';
    default:
      return e.status >= 500 || e.code === 'INTERNAL_ERROR'
        ? 'Something went wrong on the server. Try again later.'
        : 'Something went wrong. Try again.';
  }
}

/**
 * What a form shows under its fields after the server refused it: field errors go beside the
 * fields in `shown`; a summary only for what no shown field can carry (null when there is none).
 */
export function formSummary(error: unknown, shown: readonly string[], now: Date = new Date()): string | null {
  const e = toAPIError(error);
  if (e.code !== 'VALIDATION_ERROR') return describeError(e, now);
  const fields = e.fieldErrors();
  const rest = Object.entries(fields)
    .filter(([key]) => !shown.includes(key))
    .map(([, message]) => message);
  if (Object.keys(fields).length === 0) return describeError(e, now);
  return rest.length > 0 ? rest.join(' ') : null;
}
