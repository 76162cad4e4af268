import axios from 'axios';

/** The error envelope every backend error uses (see the API contract). */
interface ErrorEnvelope {
  success: false;
  error: string;
  message: string;
  details?: Record<string, unknown>;
}

/** One entry of `details.fields` on a VALIDATION_ERROR. */
export interface FieldIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
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

  /** Validation errors keyed by field name (last element of `loc`), for forms. */
  get fieldErrors(): Record<string, string> {
    const fields = this.details.fields;
    const out: Record<string, string> = {};
    if (!Array.isArray(fields)) return out;
    for (const issue of fields as FieldIssue[]) {
      const key = issue?.loc?.length ? String(issue.loc[issue.loc.length - 1]) : '_';
      if (!(key in out) && typeof issue.msg === 'string') out[key] = issue.msg;
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

/** A message fit for the UI. */
export function describeError(error: unknown): string {
  return toAPIError(error).message;
}
