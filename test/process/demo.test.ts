/** `lightsout demo` as a real process: it prints an admin token that opens the API. */
import { spawn } from 'node:child_process';
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
});
