/**
 * Secrets named in the config: `${VARIABLE}` is read from the environment and
 * `file:/path` from a file (a mounted secret, its trailing newline dropped);
 * anything else is the value itself. Resolved once, when the service starts, so
 * a missing secret is one clear line then, not a failed delivery at night.
 * Errors name where the secret is used and the variable or file, never a value.
 */
import { readFileSync } from 'node:fs';

export class SecretError extends Error {
  override readonly name = 'SecretError';
}

export interface SecretSources {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly readFile: (path: string) => string;
}

const SYSTEM: SecretSources = {
  env: process.env,
  readFile: (path) => readFileSync(path, 'utf8'),
};

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** True when the value names where the secret is, rather than being it (lint warns otherwise). */
export function isSecretReference(value: string): boolean {
  return value.startsWith('file:') || /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(value.trim());
}

export function resolveSecret(value: string, where: string, sources = SYSTEM): string {
  if (value.startsWith('file:')) {
    const path = value.slice('file:'.length);
    let text: string;
    try {
      text = sources.readFile(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new SecretError(
        `${where}: cannot read the secret file ${path} (${code}); mount it there or fix the path`,
      );
    }
    const secret = text.replace(/\r?\n$/, '');
    if (secret === '') throw new SecretError(`${where}: the secret file ${path} is empty`);
    return secret;
  }
  return value.replace(VARIABLE, (_, variable: string) => {
    const found = sources.env[variable];
    if (found === undefined || found === '')
      throw new SecretError(
        `${where}: the environment variable ${variable} is not set; set it, or name a file with file:/path`,
      );
    return found;
  });
}

/** The fields of each notifier type that hold a secret. */
export const SECRET_FIELDS: Readonly<Record<string, readonly string[]>> = {
  slack: ['webhook_url', 'token'],
  email: ['password'],
  teams: ['url'],
  'google-chat': ['url'],
  webhook: ['secret'],
  sns: [],
};

/** Secrets written inline in `notifiers` (lint warns: the value never appears in the warning). */
export function inlineSecrets(
  notifiers: Readonly<Record<string, Readonly<Record<string, unknown>> & { type: string }>>,
): { path: (string | number)[]; message: string }[] {
  const found: { path: (string | number)[]; message: string }[] = [];
  for (const [name, notifier] of Object.entries(notifiers))
    for (const field of SECRET_FIELDS[notifier.type] ?? []) {
      const value = notifier[field];
      if (typeof value === 'string' && !isSecretReference(value))
        found.push({
          path: ['notifiers', name, field],
          message: `${field} is a secret written inline, so it goes wherever this file goes; write \${VARIABLE} or file:/path instead`,
        });
    }
  return found;
}
