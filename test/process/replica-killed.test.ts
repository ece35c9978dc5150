/**
 * A replica killed (kill -9) after a warning was due and before a channel took
 * it: the real binary, two replicas one after the other on one store (a SQLite
 * file, or PostgreSQL), a local HTTP receiver standing in for the webhook channel.
 * The receiver holds the first replica's request unanswered; the replica is
 * killed; the second replica sends the warning again once the first one's claim
 * expired, and the receiver accepts it: one message accepted, never two.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/store.js';
import type { Store } from '../../src/store/store.js';
import { DATABASES } from '../store/databases.js';
import { startServe, stopProcess, waitFor } from './serve.js';
import type { ServeProcess } from './serve.js';

const config = (url: string) => `
timezone: UTC
environments:
  dev:
    grace: 10m
    notify: [hook]
    select: { provider: sandbox, tags: { env: dev } }
holds:
  - { environment: dev, state: on, until: "2999-01-01T00:00Z" }
notifiers:
  hook: { type: webhook, url: "${url}/hook", secret: "\${KILLED_HOOK_SECRET}" }
sandbox:
  resources:
    - { kind: ec2, name: dev-web, tags: { env: dev } }
`;

/** Holds the first request unanswered (the replica sending it dies); answers the others 200. */
async function receiver() {
  const requests: { body: string; accepted: boolean }[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const first = requests.length === 0;
      requests.push({ body, accepted: !first });
      if (!first) response.writeHead(200).end('ok');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

describe.each(DATABASES)('a replica killed before its warning was taken, on $name', (database) => {
  const started: ServeProcess[] = [];
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const s of started.splice(0)) await stopProcess(s, 'SIGKILL');
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('the other replica sends it once the claim expired; the channel accepts one message', async () => {
    const hook = await receiver();
    cleanups.push(hook.close);
    const dir = mkdtempSync(join(tmpdir(), 'lightsout-killed-'));
    const file = join(dir, 'lightsout.yaml');
    writeFileSync(file, config(hook.url));
    const db = database.url();
    const env = { KILLED_HOOK_SECRET: 'whsec-killed-replica' };
    // At 60x, the 35 s a claimed attempt holds a notice pass in well under a second.
    const serve = async (replica: string) => {
      const child = await startServe(
        ['--config', file, '--db', db, '--speed', '60', '--replica-id', replica],
        20_000,
        env,
      );
      started.push(child);
      return child;
    };
    const a = await serve('replica-a');
    const store: Store = await openStore(db);
    cleanups.push(() => store.close());
    await waitFor('the first pass', () => store.getApplied('dev'));

    const stop = spawnSync(
      process.execPath,
      ['dist/cli/main.js', 'stop', 'dev', '--config', file, '--db', db, '--grace', '10m', '--json'],
      { encoding: 'utf8', env: { ...process.env, ...env } },
    );
    expect(stop.status, stop.stderr).toBe(0);
    const runId = (JSON.parse(stop.stdout.trim().split('\n').at(-1)!) as { run: string }).run;

    // Replica A sends the warning; the channel has not answered when A is killed.
    await waitFor('replica A to send the warning', () =>
      Promise.resolve(hook.requests.length === 1),
    );
    await stopProcess(a, 'SIGKILL');
    const claimed = (await store.listNotices(runId)).find((n) => n.channel === 'hook');
    expect(claimed).toMatchObject({ status: 'pending', attempts: 1 });

    await serve('replica-b');
    const sent = await waitFor('replica B to deliver the warning', async () => {
      const row = (await store.listNotices(runId)).find((n) => n.channel === 'hook');
      return row?.status === 'sent' ? row : undefined;
    });
    expect(sent.attempts).toBe(2);
    expect(hook.requests.map((r) => r.accepted)).toEqual([false, true]);
    const kinds = hook.requests.map((r) => JSON.parse(r.body) as { kind: string; runId: string });
    expect(kinds).toEqual([
      expect.objectContaining({ kind: 'stop-warning', runId }),
      expect.objectContaining({ kind: 'stop-warning', runId }),
    ]);
    const events = (await store.queryEvents({ kind: 'notice.sent', runId })).events;
    expect(events.map((e) => e.payload)).toEqual(
      expect.arrayContaining([{ notice: 'stop-warning', channel: 'hook', attempt: 2 }]),
    );
  }, 90_000);
});
