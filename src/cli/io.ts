import type { Instant } from '../core/glossary.js';

/** What a command may touch: its output streams and the clock, injected for tests. */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly now: () => Instant;
}

/**
 * Exit codes: 0 success, 1 the config (or its plan) has errors, 2 the command line
 * is wrong, 3 the database cannot be opened (a read-only directory, a full disk,
 * PostgreSQL unreachable), 4 a notifier refused a test message, 5 an export failed
 * (and removed what it had written).
 */
export const EXIT = {
  ok: 0,
  invalidConfig: 1,
  usage: 2,
  storeUnavailable: 3,
  deliveryFailed: 4,
  exportFailed: 5,
} as const;

/** A mistake on the command line: printed as `error: ...` with exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
