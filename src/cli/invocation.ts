/**
 * Command lines lightsout prints for people to paste (the demo's banner, the fix
 * in an error): they must work from any directory. `npx lightsout` works only
 * inside the project (elsewhere npx looks for a package on the registry), and
 * `lightsout` is on the PATH only after a global install, so they name this very
 * binary by its absolute path, with absolute paths for the config and the store.
 */
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDatabaseUrl, redact } from '../store/db.js';

/** src/cli and dist/cli both sit two levels below the package root; the binary is built into dist/. */
const BINARY = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** `node /abs/dist/cli/main.js ARGS...`, quoted for a POSIX shell. */
export function commandLine(args: readonly string[]): string {
  return ['node', BINARY, ...args].map(shellWord).join(' ');
}

/**
 * One word for a POSIX shell: as is when it holds no special character, else in
 * single quotes. (shell-quote's `quote` escapes ":" and "@" too, which makes
 * `sqlite:/path` and URLs hard to read for no gain.)
 */
function shellWord(word: string): string {
  return /^[\w./:=@%+,-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** A `--db` URL with a relative SQLite path made absolute against `cwd`, as it is reported and opened. */
export function absoluteDatabaseUrl(url: string, cwd: string = process.cwd()): string {
  const { dialect, location } = parseDatabaseUrl(url);
  if (dialect !== 'sqlite' || location === ':memory:' || isAbsolute(location)) return url;
  return `sqlite:${resolve(cwd, location)}`;
}

/**
 * A `--db` URL as a printed command line may show it: a PostgreSQL URL with its
 * password replaced by *** (a printed command lands in terminals, CI logs and chat;
 * passwords in `--db` never appear in what lightsout prints), a SQLite path as it
 * is (no secret there, and kept byte for byte so the command still works).
 */
export function printableDatabaseUrl(url: string): string {
  return parseDatabaseUrl(url).dialect === 'postgres' ? redact(url) : url;
}
