/**
 * Which errors are worth trying again, as data, and how long to wait: exponential
 * backoff with full jitter, capped.
 */
import { TransientError } from './ports.js';

/** Error names and codes that mean "try again later" (throttling, timeouts, 5xx). */
const TRANSIENT = new Set([
  'TransientError',
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestTimeout',
  'RequestTimeoutException',
  'ServiceUnavailable',
  'InternalError',
  'InternalFailure',
  'ETIMEDOUT',
  'ECONNRESET',
  'ECONNREFUSED',
  'EAI_AGAIN',
  'SQLITE_BUSY',
]);

export function isTransient(error: unknown): boolean {
  if (error instanceof TransientError) return true;
  if (typeof error !== 'object' || error === null) return false;
  const { name, code, $metadata } = error as {
    name?: unknown;
    code?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  const status = $metadata?.httpStatusCode;
  return (
    (typeof name === 'string' && TRANSIENT.has(name)) ||
    (typeof code === 'string' && TRANSIENT.has(code)) ||
    (status !== undefined && (status === 429 || status >= 500))
  );
}

export class RetryPolicy {
  constructor(
    readonly maxAttempts = 5,
    private readonly baseMs = 1_000,
    private readonly capMs = 30_000,
    private readonly random: () => number = Math.random,
  ) {}

  /** Full jitter: a random wait up to base × 2^(attempt-1), capped. */
  delayMs(attempt: number): number {
    const ceiling = Math.min(this.capMs, this.baseMs * 2 ** (attempt - 1));
    return Math.round(this.random() * ceiling);
  }
}
