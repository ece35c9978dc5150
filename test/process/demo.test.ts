/** `lightsout demo` as a real process: it prints an admin token that opens the API. */
import { exec, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/store.js';
import { holdPort, runToExit, stopProcess, waitFor } from './serve.js';

describe('lightsout demo', () => {
  it('prints an admin token for the API; without it the API answers 401', async () => {
    const data = mkdtempSync(join(tmpdir(), 'lightsout-demo-'));
    const child = spawn(process.execPath, [
      'dist/cli/main.js',
      'demo',
      '--port',
      '0',
      '--data',
      data,
    ]);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      const [, token, api] = await waitFor('the API line', () =>
        Promise.resolve(
          /Bearer (lo_[\w-]+)" (http:\/\/\S+)\/api\/v1\/environments/.exec(output) ?? undefined,
        ),
      );
      const withToken = await fetch(`${api}/api/v1/environments`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(withToken.status).toBe(200);
      expect(
        ((await withToken.json()) as { environments: unknown[] }).environments.length,
      ).toBeGreaterThan(0);
      expect((await fetch(`${api}/api/v1/environments`)).status).toBe(401);
      // A new demo's fleet starts as its plan wants it: the environment held off is off.
      const store = await openStore(`sqlite:${join(data, 'lightsout.db')}`);
      try {
        const legacy = await store.db
          .selectFrom('sandbox_resources')
          .select('state')
          .where('name', '=', 'legacy-box')
          .executeTakeFirstOrThrow();
        expect(legacy.state).toBe('off');
      } finally {
        await store.close();
      }
    } finally {
      await stopProcess({ child, port: 0, output: () => output }, 'SIGTERM');
    }
  });

  it('on a busy port, says which and how to choose another, exits 2, and closes the store', async () => {
    const data = mkdtempSync(join(tmpdir(), 'lightsout-demo-'));
    const held = await holdPort();
    try {
      const result = await runToExit(['demo', '--port', String(held.port), '--data', data]);
      expect(result.stderr).toBe(
        `error: port ${held.port} is in use on 127.0.0.1; choose another with --port\n`,
      );
      expect(result.code).toBe(2);
    } finally {
      await held.close();
    }
    expect(existsSync(join(data, 'lightsout.db'))).toBe(true);
    expect(existsSync(join(data, 'lightsout.db-wal'))).toBe(false);
  });

  it('its printed commands work from any directory and read its clock, which a restart never rewinds', async () => {
    const data = mkdtempSync(join(tmpdir(), 'lightsout-demo-'));
    const elsewhere = mkdtempSync(join(tmpdir(), 'lightsout-elsewhere-'));
    /** The banner's status line, pasted into a shell in another directory: the time it reads. */
    const statusTime = async (banner: string): Promise<number> => {
      const line = /^ {2}status: {2}(.+)$/m.exec(banner)![1]!;
      const { stdout } = await promisify(exec)(`${line} --json`, { cwd: elsewhere });
      return Date.parse((JSON.parse(stdout) as { at: string }).at);
    };
    // An hour of demo time a second: the wall clock and the demo's are told apart at once.
    const start = () => {
      const child = spawn(
        process.execPath,
        ['dist/cli/main.js', 'demo', '--port', '0', '--data', data, '--speed', '3600'],
        { env: { ...process.env, LIGHTSOUT_LOG_FORMAT: 'json' } },
      );
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      return { child, port: 0, output: () => output };
    };
    const first = start();
    try {
      await waitFor('the banner', () => Promise.resolve(first.output().includes('Ctrl-C')));
      // Read from the wall clock, it would never get an hour ahead.
      await waitFor('the demo clock an hour ahead of the wall clock', async () => {
        return (await statusTime(first.output())) - Date.now() > 3_600_000;
      });
    } finally {
      await stopProcess(first, 'SIGTERM');
    }
    // Stopped, the demo's clock stands still: commands read the instant it stopped at.
    // (Running at 3,600x, it would move an hour in the second a command takes to start.)
    const stoppedAt = await statusTime(first.output());
    expect(await statusTime(first.output())).toBe(stoppedAt);
    const second = start();
    try {
      await waitFor('the banner', () => Promise.resolve(second.output().includes('Ctrl-C')));
      expect(await statusTime(second.output())).toBeGreaterThanOrEqual(stoppedAt);
      const store = await openStore(`sqlite:${join(data, 'lightsout.db')}`);
      try {
        // Nothing the first run recorded lies in the restarted demo's future.
        const last = await store.db
          .selectFrom('events')
          .select((eb) => eb.fn.max('at').as('at'))
          .executeTakeFirstOrThrow();
        expect(last.at).toBeLessThanOrEqual(await statusTime(second.output()));
      } finally {
        await store.close();
      }
    } finally {
      await stopProcess(second, 'SIGTERM');
    }
  }, 60_000);
});
