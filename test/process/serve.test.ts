/**
 * The real process: health endpoints, graceful shutdown, and crash safety with
 * kill -9 in the middle of a grace period and of the act phase.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/store.js';
import type { Store } from '../../src/store/store.js';
import { holdPort, runToExit, startServe, stopProcess, waitFor } from './serve.js';
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

function workspace() {
  const dir = mkdtempSync(join(tmpdir(), 'lightsout-serve-'));
  const config = join(dir, 'lightsout.yaml');
  writeFileSync(config, CONFIG);
  return { config, db: `sqlite:${join(dir, 'lightsout.db')}` };
}

const cli = (...args: string[]) =>
  spawnSync(process.execPath, ['dist/cli/main.js', ...args], { encoding: 'utf8' });

describe('lightsout serve', { timeout: 60_000 }, () => {
  const started: ServeProcess[] = [];
  let store: Store | undefined;
  afterEach(async () => {
    for (const s of started.splice(0)) await stopProcess(s, 'SIGKILL');
    await store?.close();
    store = undefined;
  });

  it('answers /healthz and /readyz, and stops cleanly on SIGTERM', async () => {
    const { config, db } = workspace();
    const serve = await startServe([
      '--config',
      config,
      '--db',
      db,
      '--replica-id',
      'test-replica',
    ]);
    started.push(serve);
    const health = await fetch(`http://127.0.0.1:${serve.port}/healthz`);
    expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
    const ready = await fetch(`http://127.0.0.1:${serve.port}/readyz`);
    expect([ready.status, await ready.json()]).toEqual([200, { status: 'ready' }]);
    expect(await stopProcess(serve, 'SIGTERM')).toBe(0);
    expect(serve.output()).toContain('"msg":"lightsout stopped"');
  });

  it('refuses a malformed --db with the fix and exit code 2', () => {
    const { config } = workspace();
    const result = cli('serve', '--config', config, '--db', 'mysql://root:hunter2@db/x');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(
      'error: --db "mysql://root:***@db/x" is neither sqlite:PATH nor postgres://',
    );
    expect(result.stderr).not.toContain('hunter2');
  });

  it('on a busy port, says which and how to choose another, exits 2, and closes the store', async () => {
    const { config, db } = workspace();
    const held = await holdPort();
    try {
      const result = await runToExit([
        'serve',
        '--config',
        config,
        '--db',
        db,
        '--port',
        String(held.port),
      ]);
      expect(result.stderr).toBe(
        `error: port ${held.port} is in use on 127.0.0.1; choose another with --port\n`,
      );
      expect(result.code).toBe(2);
    } finally {
      await held.close();
    }
    // SQLite removes the write-ahead log when the last connection closes, not when a process dies.
    const file = db.slice('sqlite:'.length);
    expect(existsSync(file)).toBe(true);
    expect(existsSync(`${file}-wal`)).toBe(false);
  });

  /** Serves `config` on `db` as the same replica every time, so a restart resumes its runs at once. */
  async function serve(config: string, db: string, speed = '1') {
    const child = await startServe([
      '--config',
      config,
      '--db',
      db,
      '--speed',
      speed,
      '--replica-id',
      'test-replica',
    ]);
    started.push(child);
    return child;
  }

  /** Opens the store once the first pass has adopted the environment (on, as the sandbox seeds it). */
  async function afterFirstPass(db: string): Promise<Store> {
    const opened = await openStore(db);
    store = opened;
    const adopted = await waitFor('the first pass', () => opened.getApplied('dev'));
    expect(adopted.state).toBe('on');
    return opened;
  }

  function stopWithCli(config: string, db: string, grace: string): string {
    const stop = cli('stop', 'dev', '--config', config, '--db', db, '--grace', grace, '--json');
    expect(stop.status).toBe(0);
    return (JSON.parse(stop.stdout.trim().split('\n').at(-1)!) as { run: string }).run;
  }

  function finished(opened: Store, runId: string) {
    return waitFor('the stop to finish', async () => {
      const run = await opened.getRun(runId);
      return run?.status === 'succeeded' || run?.status === 'failed' ? run : undefined;
    });
  }

  it('acts on a stop typed beside it at once, not at the next safety tick (30 s)', async () => {
    const { config, db } = workspace();
    await serve(config, db);
    const opened = await afterFirstPass(db);
    const runId = stopWithCli(config, db, '0');
    const started = Date.now();
    // The database takes minutes to stop at speed 1: acting is what the wake-up decides.
    const run = await waitFor(
      'the stop to act',
      async () => {
        const found = await opened.getRun(runId);
        return found?.status === 'grace' ? undefined : found;
      },
      10_000,
    );
    expect(run.status).toBe('acting');
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 60_000);

  it('finishes a stop after kill -9 in its grace period, acting once', async () => {
    const { config, db } = workspace();
    const first = await serve(config, db);
    const opened = await afterFirstPass(db);
    const runId = stopWithCli(config, db, '30m');
    expect((await opened.getRun(runId))?.status).toBe('grace');
    await stopProcess(first, 'SIGKILL');

    // At 600x, the 30 minutes of grace pass in 3 seconds.
    await serve(config, db, '600');
    expect((await finished(opened, runId)).status).toBe('succeeded');
    const steps = await opened.listSteps(runId);
    expect(steps.map((s) => [s.resource, s.status, s.attempts])).toEqual([
      ['sandbox:rds:dev-db', 'done', 1],
      ['sandbox:ec2:dev-web', 'done', 1],
      ['sandbox:ecs:dev-api', 'done', 1],
    ]);
  }, 60_000);

  it('on SIGTERM in the act phase, exits 0 with every step recorded, and the run resumes after restart', async () => {
    const { config, db } = workspace();
    const first = await serve(config, db, '60');
    const opened = await afterFirstPass(db);
    const runId = stopWithCli(config, db, '0');
    await waitFor('the database stop to be under way', async () =>
      (await opened.listSteps(runId)).some(
        (s) => s.resource === 'sandbox:rds:dev-db' && s.status === 'acted',
      ),
    );
    expect(await stopProcess(first, 'SIGTERM')).toBe(0);
    // Stopped at a safe point: the run is still open, and no step is left between "started" and its outcome.
    expect((await opened.getRun(runId))?.status).toBe('acting');
    const halfway = await opened.listSteps(runId);
    expect(halfway.filter((s) => s.status === 'pending' && s.attempts > 0)).toEqual([]);

    await serve(config, db, '60');
    expect((await finished(opened, runId)).status).toBe('succeeded');
    expect((await opened.listSteps(runId)).every((s) => s.attempts === 1)).toBe(true);
  }, 60_000);

  it('resumes the act phase after kill -9 without repeating a recorded action', async () => {
    const { config, db } = workspace();
    const first = await serve(config, db, '60');
    const opened = await afterFirstPass(db);
    const runId = stopWithCli(config, db, '0');
    // The database takes four simulated minutes to stop (four real seconds at 60x): kill while it does.
    await waitFor('the database stop to be under way', async () =>
      (await opened.listSteps(runId)).some(
        (s) => s.resource === 'sandbox:rds:dev-db' && s.status === 'acted',
      ),
    );
    await stopProcess(first, 'SIGKILL');

    await serve(config, db, '60');
    const run = await finished(opened, runId);
    expect(run.status).toBe('succeeded');
    const steps = await opened.listSteps(runId);
    expect(steps.every((s) => s.status === 'done' && s.attempts === 1)).toBe(true);
    const summary = JSON.parse(run.summary!) as { counts: Record<string, number> };
    expect(summary.counts).toEqual({ done: 3 });
  }, 60_000);
});
