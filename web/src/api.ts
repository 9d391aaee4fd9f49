// The one way the UI talks to the server. Every failure becomes an `ApiError` carrying a code,
// a message, the trace id and what the user can do; the server's own errors keep the catalogue's
// code and solutions, and failures the server never saw (no connection, an answer that is not
// ours, a dropped WebSocket) get a UI code whose message says what failed and what to try.

import { authorizationHeader, requireSignIn } from './accessToken';
import { currentLang, translate, type Lang } from './i18n';

export type ErrorKind = 'api' | 'network' | 'websocket';

/** Codes for failures that never reached the server's catalogue (they have no server guide). */
export const UI_CODES = {
  network: 'NETWORK_UNREACHABLE',
  unreadable: 'RESPONSE_UNREADABLE',
  websocket: 'WEBSOCKET_DISCONNECTED',
  internal: 'UI_INTERNAL_ERROR',
} as const;
const uiCodes: ReadonlySet<string> = new Set(Object.values(UI_CODES));

export function isUiCode(code: string): boolean {
  return uiCodes.has(code);
}

export interface ApiErrorInit {
  code: string;
  message: string;
  isRetryable: boolean;
  details?: Record<string, unknown>;
  solutions?: string[];
  traceId: string;
  status?: number | null;
  kind: ErrorKind;
  /** The language `solutions` are in; another language makes the dialog look them up again. */
  lang?: Lang | null;
  stage?: string | null;
  projectId?: string | null;
}

export class ApiError extends Error {
  readonly code: string;
  readonly isRetryable: boolean;
  readonly details: Record<string, unknown>;
  readonly solutions: string[];
  readonly traceId: string;
  readonly status: number | null;
  readonly kind: ErrorKind;
  readonly lang: Lang | null;
  readonly stage: string | null;
  readonly projectId: string | null;

  constructor(init: ApiErrorInit) {
    super(init.message);
    this.name = 'ApiError';
    this.code = init.code;
    this.isRetryable = init.isRetryable;
    this.details = init.details ?? {};
    this.solutions = init.solutions ?? [];
    this.traceId = init.traceId;
    this.status = init.status ?? null;
    this.kind = init.kind;
    this.lang = init.lang ?? null;
    this.stage = init.stage ?? null;
    this.projectId = init.projectId ?? null;
  }

  /** The error as plain data (for history state); `new ApiError(init)` makes it again. */
  toInit(): ApiErrorInit {
    return {
      code: this.code,
      message: this.message,
      isRetryable: this.isRetryable,
      details: this.details,
      solutions: this.solutions,
      traceId: this.traceId,
      status: this.status,
      kind: this.kind,
      lang: this.lang,
      stage: this.stage,
      projectId: this.projectId,
    };
  }

  /** A project's stored `error_info` (or a WebSocket `error` message folded into the view). */
  static fromErrorInfo(info: ErrorInfo, projectId: string, kind: ErrorKind = 'api'): ApiError {
    return new ApiError({
      code: info.error_code,
      message: info.error_message,
      isRetryable: info.is_retryable,
      details: info.details ?? {},
      solutions: [],
      traceId: info.trace_id ?? newTraceId(),
      kind,
      lang: null,
      stage: info.stage ?? null,
      projectId,
    });
  }
}

/** SPEC §4 `error_info` as stored on a project. */
export interface ErrorInfo {
  stage?: string | null;
  error_code: string;
  error_message: string;
  is_retryable: boolean;
  details?: Record<string, unknown>;
  solutions?: string[];
  timestamp?: string;
  trace_id?: string | null;
  attempts?: number;
}

interface ErrorBody {
  error: {
    code: string;
    message: string;
    is_retryable: boolean;
    details: Record<string, unknown>;
    solutions: string[];
    trace_id: string;
  };
}

function isErrorBody(v: unknown): v is ErrorBody {
  if (typeof v !== 'object' || v === null || !('error' in v)) return false;
  const e = (v as { error: unknown }).error;
  return typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string';
}

/** A trace id the server accepts (8–64 of [0-9A-Za-z_-]); sent as `X-Trace-Id` so the
 * server's log lines for this request carry the same id the UI shows if it fails. */
export function newTraceId(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

const API_PREFIX = '/api/v1';
/** The server's answer to a request without its access token (see accessToken.ts). */
export const UNAUTHORIZED = 'UNAUTHORIZED';

function describeFailure(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function request<T>(method: string, path: string, body?: BodyInit, contentType?: string): Promise<T> {
  return (await exchange(method, path, 'json', body, contentType)) as T;
}

/** One HTTP exchange; a success answers the parsed JSON (`json`) or the text (`text`). */
async function exchange(
  method: string,
  path: string,
  expect: 'json' | 'text',
  body?: BodyInit,
  contentType?: string,
): Promise<unknown> {
  const traceId = newTraceId();
  const lang = currentLang();
  const headers: Record<string, string> = {
    Accept: expect === 'json' ? 'application/json' : '*/*',
    'Accept-Language': lang,
    'X-Trace-Id': traceId,
    ...authorizationHeader(),
  };
  if (contentType) headers['Content-Type'] = contentType;
  let response: Response;
  try {
    response = await fetch(API_PREFIX + path, { method, headers, body: body ?? null });
  } catch (e) {
    throw networkError(method, path, traceId, describeFailure(e));
  }
  const text = await response.text().catch(() => '');
  let parsed: unknown = undefined;
  if (text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  const answeredTrace = response.headers.get('x-trace-id') ?? traceId;
  if (response.ok && expect === 'text') {
    void flushPendingReports();
    return text;
  }
  if (response.ok && (parsed !== undefined || text === '')) {
    void flushPendingReports();
    return parsed;
  }
  if (isErrorBody(parsed)) {
    const e = parsed.error;
    // No token, or not this server's: the layout swaps the page for the sign-in screen.
    if (response.status === 401 && e.code === UNAUTHORIZED) requireSignIn();
    throw new ApiError({
      code: e.code,
      message: e.message,
      isRetryable: e.is_retryable,
      details: e.details,
      solutions: e.solutions,
      traceId: e.trace_id,
      status: response.status,
      kind: 'api',
      lang,
    });
  }
  throw new ApiError({
    code: UI_CODES.unreadable,
    message: translate('error.unreadable.message', { status: response.status, method, path }),
    isRetryable: false,
    details: { http_status: response.status, body_start: text.slice(0, 200) },
    solutions: [translate('error.unreadable.s1'), translate('error.unreadable.s2')],
    traceId: answeredTrace,
    status: response.status,
    kind: 'api',
    lang,
  });
}

function networkError(method: string, path: string, traceId: string, reason: string): ApiError {
  return new ApiError({
    code: UI_CODES.network,
    message: translate('error.network.message', { method, path, reason }),
    isRetryable: true,
    details: { method, path, reason },
    solutions: [translate('error.network.s1'), translate('error.network.s2'), translate('error.network.s3')],
    traceId,
    kind: 'network',
    lang: currentLang(),
  });
}

export const api = {
  get<T>(path: string): Promise<T> {
    return request<T>('GET', path);
  },
  send<T>(method: 'POST' | 'PUT' | 'DELETE' | 'PATCH', path: string, body?: unknown): Promise<T> {
    return body === undefined
      ? request<T>(method, path)
      : request<T>(method, path, JSON.stringify(body), 'application/json');
  },
  upload<T>(method: 'POST' | 'PUT', path: string, file: File | Blob): Promise<T> {
    return request<T>(method, path, file, file.type || 'application/octet-stream');
  },
  /** A text file (e.g. subtitles) by its API path, failing like every other call. */
  async text(path: string): Promise<string> {
    return (await exchange('GET', path, 'text')) as string;
  },
};

/** An API URL the server gave (`/api/v1/…`) as a path for `api.*`. */
export function apiPath(url: string): string {
  return url.startsWith(API_PREFIX) ? url.slice(API_PREFIX.length) : url;
}

/** The WebSocket URL for an API path on this origin. */
export function socketUrl(path: string): string {
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${window.location.host}${API_PREFIX}${path}`;
}

// ---- client-log reporting -------------------------------------------------------------------

interface ClientLog {
  level: 'error' | 'warn' | 'info';
  message: string;
  trace_id: string;
  error_code?: string;
  project_id?: string;
  context: string;
}

// The same failure seen again (a reconnect's snapshot, a re-render) is reported once.
const reported = new Set<string>();
// Reports that could not be delivered (the server was unreachable) are sent once it answers again,
// so the server log still gets them; the list is bounded so a long outage cannot grow it forever.
const pending: ClientLog[] = [];
const MAX_PENDING = 50;

async function deliver(log: ClientLog): Promise<boolean> {
  try {
    const response = await fetch(`${API_PREFIX}/system/client-logs`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json',
        'X-Trace-Id': log.trace_id,
        ...authorizationHeader(),
      },
      body: JSON.stringify(log),
    });
    if (!response.ok) {
      // The server refused the report itself: say so where a developer looks, with the reason.
      console.error('client-log refused', response.status, await response.text().catch(() => ''));
    }
    return true;
  } catch {
    return false;
  }
}

let flushing = false;
async function flushPendingReports(): Promise<void> {
  if (flushing || pending.length === 0) return;
  flushing = true;
  try {
    while (pending.length > 0) {
      const next = pending[0];
      if (!next || !(await deliver(next))) break;
      pending.shift();
    }
  } finally {
    flushing = false;
  }
}

/** Posts an error the UI shows to the server's client-log endpoint, once per error. */
export function reportError(err: ApiError, context: string): void {
  // The client-log endpoint would refuse it the same way, and the server logged the refusal
  // under this trace id already.
  if (err.code === UNAUTHORIZED) return;
  const key = `${err.kind}|${err.code}|${err.traceId}|${err.message}`;
  if (reported.has(key)) return;
  reported.add(key);
  const log: ClientLog = {
    level: 'error',
    message: `${err.code}: ${err.message}`.slice(0, 2000),
    trace_id: err.traceId,
    context: `${context} (${err.kind})`.slice(0, 200),
  };
  if (!isUiCode(err.code)) log.error_code = err.code;
  if (err.projectId) log.project_id = err.projectId;
  void deliver(log).then((delivered) => {
    if (!delivered) {
      if (pending.length >= MAX_PENDING) pending.shift();
      pending.push(log);
    }
  });
}

/** Anything thrown into a handler, as an ApiError (our code throws only ApiErrors; a bug that
 * throws something else is still shown with what it said rather than hidden). */
export function asApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  return new ApiError({
    code: UI_CODES.internal,
    message: translate('error.internal.message', { reason: describeFailure(e) }),
    isRetryable: false,
    solutions: [translate('error.internal.s1'), translate('error.internal.s2')],
    traceId: newTraceId(),
    kind: 'api',
    lang: currentLang(),
  });
}
