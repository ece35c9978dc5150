/**
 * The real process against a store in trouble: a PostgreSQL server of the test's
 * own restarted, frozen and turned read-only under it; SQLite on a small tmpfs
 * that fills up, or that is read-only when the process starts. Each time the
 * process stays up, /readyz says why it is not ready, writes answer 503, one log
 * line tells the fault, and everything resumes when the store is back.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/store.js';
import type { Store } from '../../src/store/store.js';
import { PASSWORD, postgresBinaries, privatePostgres } from './private-postgres.js';
import type { PrivatePostgres } from './private-postgres.js';
import { runToExit, startServe, stopProcess, waitFor } from './serve.js';
import type { ServeProcess } from './serve.js';

const CONFIG = `
timezone: UTC
environments:
  dev:
    grace: 1m
    tiers:
      - { name: data, select: { provider: sandbox, kinds: [rds], tags: { env: dev } } }
      - { name: apps, select: { provider: sandbox, kinds: [ec2, ecs], tags: { env: dev } } }
holds:
  - { environment: dev, state: on, until: "2999-01-01T00:00Z" }
sandbox:
  resources:
    - { kind: rds, name: dev-db, tags: { env: dev } }
    - { kind: ec2, name: dev-web, tags: { env: dev } }
    - { kind: ecs, name: dev-api, tags: { env: dev } }
`;

function configFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'lightsout-faults-')), 'lightsout.yaml');
  writeFileSync(file, CONFIG);
  return file;
}

/** A tmpfs of `size` mounted on a new directory, or undefined where this machine cannot mount. */
function tmpfs(size: string): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'lightsout-tmpfs-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  return mounted.status === 0 ? dir : undefined;
}

function unmount(dir: string): void {
  spawnSync('umount', ['-l', dir]);
  rmSync(dir, { recursive: true, force: true });
}

const canMount = (() => {
  const dir = tmpfs('64k');
  if (dir === undefined) return false;
  unmount(dir);
  return true;
})();
const binaries = postgresBinaries();
if (!canMount)
  console.warn('skipping the SQLite disk cases: this machine cannot mount a tmpfs (needs root)');
if ('missing' in binaries)
  console.warn(`skipping the private PostgreSQL cases: ${binaries.missing}`);

/** GET /readyz, which must answer well within 10 s whatever the database does. */
async function readyz(port: number): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`, {
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, body: await response.text() };
}

/** An admin token for the API, in the store at `db` (created and migrated if new). */
async function adminToken(config: string, db: string): Promise<string> {
  // The CLI opens only a store that exists (a mistyped --db must not become a new one).
  await (await openStore(db)).close();
  const created = await runToExit([
    'token',
    'create',
    '--name',
    'ops',
    '--role',
    'admin',
    '--json',
    '--config',
    config,
    '--db',
    db,
  ]);
  expect(created.code).toBe(0);
  return (JSON.parse(created.stdout.trim()) as { token: string }).token;
}

/** POST /api/v1/holds: an accepted write, for as long as the store takes it. */
async function holdOn(port: number, token: string, state: 'on' | 'off' = 'on') {
  const response = await fetch(`http://127.0.0.1:${port}/api/v1/holds`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      environment: 'dev',
      state,
      until: new Date(Date.now() + 86_400_000).toISOString(),
    }),
    signal: AbortSignal.timeout(60_000),
  });
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: (await response.json()) as { type?: string; detail?: string },
  };
}

function linesWith(output: string, text: string): number {
  return output.split('\n').filter((line) => line.includes(text)).length;
}

async function expectOneFaultStory(serve: ServeProcess): Promise<void> {
  // The line is written before the answer that showed recovery; the pipe may bring it a moment later.
  await waitFor('the recovery line', () =>
    Promise.resolve(serve.output().includes('store available again')),
  );
  const output = serve.output();
  expect(output).not.toContain('Unhandled');
  expect(output).not.toContain(PASSWORD);
  // One line when the fault began (a second if its kind changed, e.g. away then frozen).
  expect(linesWith(output, 'store unavailable:')).toBeGreaterThanOrEqual(1);
  expect(linesWith(output, 'store unavailable:')).toBeLessThanOrEqual(2);
  expect(linesWith(output, 'store available again')).toBe(1);
}

describe.skipIf('missing' in binaries)(
  'serve on a PostgreSQL that restarts, freezes, turns read-only',
  { timeout: 120_000 },
  () => {
    let postgres: PrivatePostgres | undefined;
    const started: ServeProcess[] = [];
    let store: Store | undefined;
    afterEach(async () => {
      for (const s of started.splice(0)) await stopProcess(s, 'SIGKILL');
      await store?.close();
      store = undefined;
      postgres?.destroy();
      postgres = undefined;
    });

    async function serving(speed = '1') {
      const bin = (binaries as { bin: string }).bin;
      postgres = await privatePostgres(bin);
      const config = configFile();
      const token = await adminToken(config, postgres.url);
      const serve = await startServe([
        '--config',
        config,
        '--db',
        postgres.url,
        '--speed',
        speed,
        '--replica-id',
        'faults',
      ]);
      started.push(serve);
      expect((await readyz(serve.port)).status).toBe(200);
      return { postgres, config, token, serve };
    }

    it('stays up through a restart: 503 while away, then a run in progress resumes, acting once', async () => {
      const { postgres, config, token, serve } = await serving('60');
      const opened = await openStore(postgres.url);
      store = opened;
      await waitFor('the first pass', () => opened.getApplied('dev'));
      const stop = await runToExit([
        'stop',
        'dev',
        '--grace',
        '0',
        '--json',
        '--config',
        config,
        '--db',
        postgres.url,
      ]);
      expect(stop.code).toBe(0);
      const runId = (JSON.parse(stop.stdout.trim().split('\n').at(-1)!) as { run: string }).run;
      // The database takes four simulated minutes (four real seconds at 60x) to stop: restart meanwhile.
      await waitFor('the database stop to be under way', async () =>
        (await opened.listSteps(runId)).some(
          (s) => s.resource === 'sandbox:rds:dev-db' && s.status === 'acted',
        ),
      );

      postgres.stop();
      const away = await readyz(serve.port);
      expect(away.status).toBe(503);
      expect(JSON.parse(away.body)).toEqual({
        status: 'not ready',
        reason: 'the database cannot be reached',
      });
      const refused = await holdOn(serve.port, token);
      expect([refused.status, refused.body.type, refused.retryAfter]).toEqual([
        503,
        'https://lightsout.dev/problems/store-unavailable',
        '5',
      ]);
      expect(serve.child.exitCode).toBeNull();

      postgres.start();
      await waitFor('ready again', async () => (await readyz(serve.port)).status === 200, 60_000);
      const run = await waitFor(
        'the stop to finish',
        async () => {
          const found = await opened.getRun(runId).catch(() => undefined);
          return found?.status === 'acting' || found?.status === 'grace' ? undefined : found;
        },
        90_000,
      );
      expect(run.status).toBe('succeeded');
      const steps = await opened.listSteps(runId);
      expect(steps.map((s) => [s.resource, s.status, s.attempts])).toEqual([
        ['sandbox:rds:dev-db', 'done', 1],
        ['sandbox:ec2:dev-web', 'done', 1],
        ['sandbox:ecs:dev-api', 'done', 1],
      ]);
      // Writes go through again (a hold-off: the stop's own hold-off would refuse a hold-on).
      expect((await holdOn(serve.port, token, 'off')).status).toBe(201);
      await expectOneFaultStory(serve);
    });

    it('answers /readyz 503 within its 2 s while the server is frozen, and is ready once it thaws', async () => {
      const { postgres, serve } = await serving();
      postgres.freeze();
      try {
        const frozen = await readyz(serve.port);
        expect([frozen.status, JSON.parse(frozen.body)]).toEqual([
          503,
          { status: 'not ready', reason: 'the database did not answer in time' },
        ]);
        expect(serve.child.exitCode).toBeNull();
      } finally {
        postgres.thaw();
      }
      await waitFor('ready again', async () => (await readyz(serve.port)).status === 200, 60_000);
      await expectOneFaultStory(serve);
    });

    it('turns not ready when the database refuses writes, and ready when it takes them again', async () => {
      const { postgres, token, serve } = await serving();
      postgres.psql('alter system set default_transaction_read_only = on');
      postgres.psql('select pg_reload_conf()');
      const refused = await holdOn(serve.port, token);
      expect([refused.status, refused.body.detail]).toEqual([
        503,
        'the database is read-only; nothing was changed, retry later',
      ]);
      const readOnly = await readyz(serve.port);
      expect([readOnly.status, JSON.parse(readOnly.body)]).toEqual([
        503,
        { status: 'not ready', reason: 'the database is read-only' },
      ]);

      postgres.psql('alter system reset default_transaction_read_only');
      postgres.psql('select pg_reload_conf()');
      await waitFor('ready again', async () => (await readyz(serve.port)).status === 200, 30_000);
      expect((await holdOn(serve.port, token)).status).toBe(201);
      await expectOneFaultStory(serve);
    });
  },
);

describe.skipIf(!canMount)(
  'serve on SQLite whose disk fills up or is read-only',
  { timeout: 60_000 },
  () => {
    const mounts: string[] = [];
    const started: ServeProcess[] = [];
    afterEach(async () => {
      for (const s of started.splice(0)) await stopProcess(s, 'SIGKILL');
      for (const dir of mounts.splice(0)) unmount(dir);
    });

    function mounted(size: string): string {
      const dir = tmpfs(size);
      if (dir === undefined) throw new Error('mounting a tmpfs failed');
      mounts.push(dir);
      return dir;
    }

    it('on a full disk: stays up, not ready with the reason, writes 503; recovers when space is freed', async () => {
      const dir = mounted('1m');
      const db = `sqlite:${join(dir, 'lightsout.db')}`;
      const config = configFile();
      const token = await adminToken(config, db);
      // At 600x a pass (which records its instant) runs every 50 ms: the fault shows at once.
      const serve = await startServe(['--config', config, '--db', db, '--speed', '600']);
      started.push(serve);
      expect((await readyz(serve.port)).status).toBe(200);

      const filler = join(dir, 'filler');
      fillUp(filler);
      await waitFor('not ready', async () => (await readyz(serve.port)).status === 503, 20_000);
      expect(JSON.parse((await readyz(serve.port)).body)).toEqual({
        status: 'not ready',
        reason: 'the disk holding the database is full',
      });
      expect((await holdOn(serve.port, token)).status).toBe(503);
      expect(serve.child.exitCode).toBeNull();
      // A command's write on the full disk: one line and exit 3, no stack.
      const refused = await runToExit([
        'token',
        'create',
        '--name',
        'late',
        '--role',
        'viewer',
        '--config',
        config,
        '--db',
        db,
      ]);
      expect(refused.stderr).toBe(
        'error: the store refused the change: the disk holding the database is full; nothing was changed\n',
      );
      expect(refused.code).toBe(3);

      rmSync(filler);
      await waitFor('ready again', async () => (await readyz(serve.port)).status === 200, 20_000);
      expect((await holdOn(serve.port, token)).status).toBe(201);
      await expectOneFaultStory(serve);
      // No flood: a pass every 50 ms did not each log a line.
      expect(serve.output().trim().split('\n').length).toBeLessThan(20);
    });

    it('refuses to start on a read-only directory: one line naming it and the fix, exit 3', async () => {
      const dir = mounted('1m');
      const db = `sqlite:${join(dir, 'lightsout.db')}`;
      const config = configFile();
      await adminToken(config, db); // the database exists, and its directory then turns read-only
      expect(spawnSync('mount', ['-o', 'remount,ro', dir]).status).toBe(0);
      const result = await runToExit(['serve', '--config', config, '--db', db, '--port', '0']);
      expect(result.stderr).toBe(
        `error: --db ${db}: cannot write the database or its directory ${dir} (read-only or not permitted); make both writable by this user or choose another --db\n`,
      );
      expect(result.code).toBe(3);
    });

    it('refuses to start in a missing directory: one line naming it and the fix, exit 2', async () => {
      const dir = join(mkdtempSync(join(tmpdir(), 'lightsout-missing-')), 'nowhere');
      const db = join(dir, 'lightsout.db');
      const result = await runToExit([
        'serve',
        '--config',
        configFile(),
        '--db',
        `sqlite:${db}`,
        '--port',
        '0',
      ]);
      expect(result.stderr).toBe(
        `error: no directory ${dir} for the store ${db}; create it, or pass another --db\n`,
      );
      expect(result.code).toBe(2);
    });

    it('a demo whose data directory cannot be made says so in one line, exit 2', async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'lightsout-data-')), 'a-file');
      writeFileSync(file, '');
      const data = join(file, 'demo');
      const result = await runToExit(['demo', '--data', data, '--port', '0']);
      expect(result.stderr).toBe(
        `error: cannot make the demo's data directory ${data} (ENOTDIR); give one this user may write with --data\n`,
      );
      expect(result.code).toBe(2);
    });
  },
);

/** Writes `file` until the disk is full. */
function fillUp(file: string): void {
  const chunk = Buffer.alloc(4_096);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, '');
  for (;;) {
    try {
      writeFileSync(file, chunk, { flag: 'a' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOSPC') return;
      throw error;
    }
  }
}
