/**
 * A PostgreSQL server of the test's own (initdb + pg_ctl on a temporary directory
 * and a free port), so a test may stop, restart and freeze it without disturbing
 * the tests that share the suite's server. Needs Debian's PostgreSQL binaries
 * (/usr/lib/postgresql/N/bin); as root, the server runs as the `postgres` user,
 * since initdb refuses root.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './serve.js';

const ROOT = '/usr/lib/postgresql';
const USER = 'lightsout';
export const PASSWORD = 'private-pg-secret';

/** The newest installed PostgreSQL's bin directory, or why there is none. */
export function postgresBinaries(): { bin: string } | { missing: string } {
  if (!existsSync(ROOT)) return { missing: `no PostgreSQL binaries in ${ROOT}` };
  const versions = readdirSync(ROOT)
    .filter((v) => existsSync(join(ROOT, v, 'bin', 'initdb')))
    .sort((a, b) => Number(a) - Number(b));
  const newest = versions.at(-1);
  return newest === undefined
    ? { missing: `no initdb under ${ROOT}/*/bin` }
    : { bin: join(ROOT, newest, 'bin') };
}

export interface PrivatePostgres {
  /** The `--db` URL (with its password: tests check it never shows). */
  readonly url: string;
  start(): void;
  /** `pg_ctl stop -m fast`: sessions are ended, as in a restart. */
  stop(): void;
  /** SIGSTOP to the postmaster and every backend: the server answers nothing, connections stay open. */
  freeze(): void;
  thaw(): void;
  /** Runs `sql` as the superuser (for ALTER SYSTEM and the like). */
  psql(sql: string): string;
  /** Stops the server and removes its files. */
  destroy(): void;
}

export async function privatePostgres(bin: string): Promise<PrivatePostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'lightsout-pg-'));
  const data = join(dir, 'data');
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  const ids = asRoot ? idsOf('postgres') : undefined;
  if (ids !== undefined) {
    chownSync(dir, ids.uid, ids.gid);
    chmodSync(dir, 0o700);
  }
  const run = (command: string, args: readonly string[]) =>
    execFileSync(join(bin, command), args, {
      ...(ids === undefined ? {} : { uid: ids.uid, gid: ids.gid }),
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const passwordFile = join(dir, 'password');
  writeFileSync(passwordFile, PASSWORD);
  if (ids !== undefined) chownSync(passwordFile, ids.uid, ids.gid);
  run('initdb', [
    '-D',
    data,
    '-U',
    USER,
    '--pwfile',
    passwordFile,
    '-A',
    'scram-sha-256',
    '--no-sync',
  ]);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const pgCtl = (...args: string[]) => run('pg_ctl', ['-D', data, '-l', join(dir, 'log'), ...args]);
  const postgres: PrivatePostgres = {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
    start: () => pgCtl('-o', options, '-w', 'start'),
    stop: () => pgCtl('-m', 'fast', '-w', 'stop'),
    freeze: () => {
      signalAll(data, 'SIGSTOP');
    },
    thaw: () => {
      signalAll(data, 'SIGCONT');
    },
    psql: (sql) =>
      execFileSync(
        join(bin, 'psql'),
        ['-h', '127.0.0.1', '-p', String(port), '-U', USER, '-d', 'postgres', '-qtAc', sql],
        {
          env: { ...process.env, PGPASSWORD: PASSWORD },
          encoding: 'utf8',
        },
      ),
    destroy: () => {
      try {
        signalAll(data, 'SIGCONT');
        pgCtl('-m', 'immediate', '-w', 'stop');
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  postgres.start();
  return postgres;
}

function idsOf(user: string): { uid: number; gid: number } {
  const result = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  const group = spawnSync('id', ['-g', user], { encoding: 'utf8' });
  if (result.status !== 0 || group.status !== 0)
    throw new Error(`running as root, and there is no "${user}" user to run PostgreSQL as`);
  return { uid: Number(result.stdout.trim()), gid: Number(group.stdout.trim()) };
}

/** The postmaster (first line of postmaster.pid) and its children, each sent `signal`. */
function signalAll(data: string, signal: NodeJS.Signals): void {
  const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => parentOf(pid) === postmaster);
  // Children first, so none is reaped and restarted by a postmaster still running.
  for (const pid of [...children, postmaster]) {
    try {
      process.kill(pid, signal);
    } catch {
      // ended meanwhile
    }
  }
}

function parentOf(pid: number): number | undefined {
  try {
    // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after its ")".
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}
