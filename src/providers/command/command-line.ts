/**
 * Command lines of the command provider. Without `shell: true` a command is split
 * into words (shell-quote) and run directly, so no shell ever interprets a
 * resource name; pipes, redirections and globs need `shell: true`.
 */
import { parse } from 'shell-quote';
import type { Parsed } from '../../core/glossary.js';

export interface CommandTarget {
  readonly start: string;
  readonly stop: string;
  /** Prints the state; without it, a target is in the state its last successful command set. */
  readonly status?: string;
  /** `status` output (trimmed) that means running; without it, exit code 0 means running. */
  readonly runningWhen?: string;
  readonly timeoutMs: number;
  readonly shell: boolean;
  /** Extra environment variables; their values are masked in events and logs. */
  readonly env: Readonly<Record<string, string>>;
}

export function parseCommandLine(command: string): Parsed<string[]> {
  const words = parse(command);
  const operator = words.find((w) => typeof w !== 'string');
  if (operator !== undefined) {
    const shown =
      'op' in operator ? operator.op : 'pattern' in operator ? operator.pattern : 'a comment';
    return {
      ok: false,
      error: `"${command}" uses shell syntax (${String(shown)}); set shell: true to run it through /bin/sh, or write it as plain words`,
    };
  }
  if (words.length === 0)
    return { ok: false, error: 'the command is empty; write the program and its arguments' };
  return { ok: true, value: words as string[] };
}
