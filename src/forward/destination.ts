/**
 * What the forwarder needs of a destination (an EventBridge bus, an SNS topic):
 * requests cut to the API's limits, and one outcome per event sent.
 */
import type { Event } from '../store/queries/events.js';
import { eventJson } from '../store/queries/events.js';

/**
 * What to do about a refusal: `throttled` and `transient` are tried again soon,
 * `permanent` (access denied, no such bus or topic) waits a minute, logged; no
 * refusal ever drops an event.
 */
export type Retry = 'throttled' | 'transient' | 'permanent';

export type Outcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly retry: Retry; readonly code: string; readonly message: string };

export interface Destination {
  /** The store key of its cursor (config/schema.ts forwardKey). */
  readonly key: string;
  /** Split into requests within the API's limits, in order. */
  batches(events: readonly Event[]): Event[][];
  /**
   * Sends one request; one outcome per event, in order. Throws a ForwardError
   * when the whole request is refused.
   */
  send(batch: readonly Event[]): Promise<Outcome[]>;
}

export class ForwardError extends Error {
  override readonly name = 'ForwardError';
  constructor(
    message: string,
    readonly retry: Retry,
    readonly code: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** An event as forwarded: the JSON the API and the CLI show (docs/events.md). */
export function eventBody(event: Event): string {
  return JSON.stringify(eventJson(event));
}

/**
 * An event too large for the API on its own is sent without its payload, marked
 * `truncated`, so it still arrives (with its id, to read it whole from the API)
 * rather than blocking every event after it.
 */
export function truncatedBody(event: Event): string {
  return JSON.stringify(eventJson({ ...event, payload: { truncated: true } }));
}

export const utf8Bytes = (text: string) => Buffer.byteLength(text, 'utf8');

/**
 * Cuts `items` in order into groups of at most `count` items whose sizes add up to
 * at most `bytes`; an item is never split.
 */
export function cut<T>(
  items: readonly T[],
  size: (item: T) => number,
  count: number,
  bytes: number,
): T[][] {
  const groups: T[][] = [];
  let group: T[] = [];
  let total = 0;
  for (const item of items) {
    const s = size(item);
    if (group.length > 0 && (group.length === count || total + s > bytes)) {
      groups.push(group);
      group = [];
      total = 0;
    }
    group.push(item);
    total += s;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/** Error names (request-level exceptions and per-entry codes) whose meaning is known, by retry class. */
const RETRY_BY_CODE: Readonly<Record<string, Retry>> = {
  // Throttling: https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html (ThrottlingException),
  // https://docs.aws.amazon.com/sns/latest/api/API_PublishBatch.html (ThrottledException).
  ThrottlingException: 'throttled',
  Throttling: 'throttled',
  ThrottledException: 'throttled',
  Throttled: 'throttled',
  KMSThrottlingException: 'throttled',
  TooManyRequestsException: 'throttled',
  // The service failed: tried again soon.
  InternalFailure: 'transient',
  InternalException: 'transient',
  InternalError: 'transient',
  InternalErrorException: 'transient',
  ServiceUnavailable: 'transient',
  TimeoutError: 'transient',
  AbortError: 'transient',
  // Refusals that only a person can fix: retried once a minute, logged.
  AccessDeniedException: 'permanent',
  AuthorizationErrorException: 'permanent',
  NotAuthorizedForSourceException: 'permanent',
  NotAuthorizedForDetailTypeException: 'permanent',
  ResourceNotFoundException: 'permanent',
  NotFoundException: 'permanent',
  InvalidParameterException: 'permanent',
  InvalidArgument: 'permanent',
  MalformedDetail: 'permanent',
  KMSAccessDeniedException: 'permanent',
  KMSNotFoundException: 'permanent',
  KMSDisabledException: 'permanent',
  KMSInvalidStateException: 'permanent',
};

/** The retry class of an entry's error code; unknown codes wait like permanent ones, never dropped. */
export function retryOfCode(code: string, senderFault?: boolean): Retry {
  return RETRY_BY_CODE[code] ?? (senderFault === false ? 'transient' : 'permanent');
}

/** A failed request as a ForwardError, its retry class read from the SDK's error. */
export function forwardErrorOf(error: unknown, what: string): ForwardError {
  const e = error as { name?: string; $fault?: string; $metadata?: { httpStatusCode?: number } };
  const code = e.name ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  const known = RETRY_BY_CODE[code];
  const retry: Retry =
    known ??
    (status === 429
      ? 'throttled'
      : status === 403 || status === 404
        ? 'permanent'
        : e.$fault === 'client' || (status !== undefined && status >= 400 && status < 500)
          ? 'permanent'
          : // a server fault, or no answer at all (network, DNS, credentials not resolved yet)
            'transient');
  const reason = error instanceof Error ? error.message : String(error);
  const advice =
    retry === 'permanent'
      ? code.includes('NotFound')
        ? ' (does it exist, in this region and account?)'
        : code.includes('Denied') || code.includes('Authoriz') || status === 403
          ? ' (check the policy of the credentials or role_arn)'
          : ''
      : '';
  return new ForwardError(`${what} refused the request: ${code}: ${reason}${advice}`, retry, code, {
    cause: error,
  });
}
