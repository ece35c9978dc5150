/**
 * The dashboard's calls to the API: same origin, the session cookie sent by the
 * browser, the CSRF token on every change. A failure becomes an ApiError that says
 * what failed and what to do (the API's problem+json detail when there is one).
 */

export interface Me {
  readonly name: string;
  readonly role: 'viewer' | 'operator' | 'admin';
  readonly team: string | null;
  readonly csrfToken: string;
  readonly expiresAt: string;
}

export interface EnvironmentSummary {
  readonly name: string;
  readonly team: string | null;
  readonly timezone: string;
  readonly desired: 'on' | 'off';
  readonly next: { readonly at: string; readonly state: 'on' | 'off' } | null;
  /** Resource counts by their last known state. */
  readonly resources: Readonly<Record<string, number>>;
}

/** A run as GET /api/v1/runs lists it (the fields the overview reads). */
export interface RunSummary {
  readonly id: string;
  readonly environment: string;
  readonly direction: string;
  readonly status: string;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    /** The problem's type name, such as `invalid-token`; `network` when no answer came. */
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

let csrfToken: string | undefined;

/** One API call: JSON in and out, the CSRF token on changes, failures as ApiError. */
export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken !== undefined) headers['x-csrf-token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiError(
      0,
      'network',
      `${method} ${path} got no answer: is lightsout still running? Check it, then retry.`,
    );
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const problem = (json ?? {}) as { type?: string; detail?: string };
    const type = problem.type?.split('/').pop() ?? `http-${response.status}`;
    throw new ApiError(
      response.status,
      type,
      problem.detail ??
        `${method} ${path} answered ${response.status}; retry, or check the server's log`,
    );
  }
  return json as T;
}

export async function signIn(credentials: { token: string } | { code: string }): Promise<Me> {
  const me = await call<Me>('POST', '/api/v1/session', credentials);
  csrfToken = me.csrfToken;
  return me;
}

/** Who is signed in, or undefined when nobody is. */
export async function currentSession(): Promise<Me | undefined> {
  try {
    const me = await call<Me>('GET', '/api/v1/session');
    csrfToken = me.csrfToken;
    return me;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return undefined;
    throw error;
  }
}

export async function signOut(): Promise<void> {
  await call<undefined>('DELETE', '/api/v1/session');
  csrfToken = undefined;
}

/** The environments the caller may see, and the service's time they were described at. */
export async function environments(): Promise<{ now: string; environments: EnvironmentSummary[] }> {
  return call('GET', '/api/v1/environments');
}

/** The newest runs the caller may see, newest first (at most 500). */
export async function recentRuns(): Promise<RunSummary[]> {
  return (await call<{ runs: RunSummary[] }>('GET', '/api/v1/runs?limit=500')).runs;
}
