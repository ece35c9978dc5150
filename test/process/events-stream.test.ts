/**
 * The NDJSON event stream of a real `lightsout serve` over a large log: the process
 * streams it a page at a time as the client reads, so its memory stays flat and
 * /healthz answers while the stream is open (the stream once built the whole log
 * in memory: 500,000 events grew the process by 1.2 GB and blocked health checks).
 */
import { request } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { newToken } from '../../src/api/tokens.js';
import { openStore } from '../../src/store/store.js';
import { DATABASES } from '../store/databases.js';
import type { TestDatabase } from '../store/databases.js';
import { startServe, stopProcess } from './serve.js';
import type { ServeProcess } from './serve.js';

const EVENTS = 150_000;
/** Far below what holding the log would take (a few hundred MB for this one). */
const MAX_GROWTH_BYTES = 80 * 1024 * 1024;
/** The server's old-space heap, in MB: ample for a page at a time, far from the whole log. */
const HEAP_MB = 96;
/** Health and memory are checked every time the client has read this much. */
const CHECK_EVERY_BYTES = 1024 * 1024;

const CONFIG = `
timezone: UTC
environments:
  dev: {}
`;

async function prepare(
  database: TestDatabase,
): Promise<{ config: string; db: string; token: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'lightsout-stream-'));
  const config = join(dir, 'lightsout.yaml');
  writeFileSync(config, CONFIG);
  const db = database.url();
  const store = await openStore(db);
  try {
    const { token, hash } = newToken();
    await store.addToken({ id: 'reader', name: 'reader', role: 'viewer', hash }, Date.now());
    const start = Date.parse('2026-06-01T00:00:00Z');
    await store.appendEvents(
      Array.from({ length: EVENTS }, (_, i) => ({
        at: start + i * 1000,
        actor: 'engine',
        kind: 'resource.state',
        environment: 'dev',
        resource: `aws:ec2:eu-west-3:123456789012:i-${String(i % 500).padStart(17, '0')}`,
        payload: { state: i % 2 === 0 ? 'on' : 'off', seq: i },
      })),
    );
    return { config, db, token };
  } finally {
    await store.close();
  }
}

describe.each(DATABASES)(
  'the NDJSON event stream of lightsout serve on $name',
  { timeout: 180_000 },
  (database) => {
    const started: ServeProcess[] = [];
    afterEach(async () => {
      for (const s of started.splice(0)) await stopProcess(s, 'SIGKILL');
    });

    it(`streams ${EVENTS.toLocaleString('en')} events with flat memory, and /healthz answers meanwhile`, async () => {
      const { config, db, token } = await prepare(database);
      // V8 collects lazily while memory is plentiful (on PostgreSQL the process grew by
      // 100 MB of garbage over 500,000 events, all of it collected at the end). A capped
      // heap makes it collect as it goes, so what is measured is what the stream keeps;
      // a stream that held the log would run out of memory here.
      const serve = await startServe(['--config', config, '--db', db], 20_000, {
        NODE_OPTIONS: `--max-old-space-size=${HEAP_MB}`,
      });
      started.push(serve);
      const base = `http://127.0.0.1:${serve.port}`;
      const auth = { authorization: `Bearer ${token}` };
      const resident = async () => {
        const text = await (await fetch(`${base}/metrics`, { headers: auth })).text();
        const value = /^lightsout_process_\w*resident_memory_bytes (\d+)/m.exec(text)?.[1];
        expect(value).toBeDefined();
        return Number(value);
      };
      const baseline = await resident();

      const response = await new Promise<IncomingMessage>((resolve, reject) => {
        request(`${base}/api/v1/events`, { headers: { ...auth, accept: 'application/x-ndjson' } })
          .on('response', resolve)
          .on('error', reject)
          .end();
      });
      expect(response.statusCode).toBe(200);
      let peak = baseline;
      const health: number[] = [];
      let sinceCheck = 0;
      let rest = '';
      let streamed = 0;
      // The client reads the stream itself, and stops reading while it checks the
      // server: the server must wait for it rather than read ahead into memory.
      for await (const chunk of response as AsyncIterable<Buffer>) {
        const lines = (rest + chunk.toString()).split('\n');
        rest = lines.pop()!;
        for (const line of lines)
          if ((JSON.parse(line) as { kind: string }).kind === 'resource.state') streamed++;
        sinceCheck += chunk.length;
        if (sinceCheck >= CHECK_EVERY_BYTES) {
          sinceCheck = 0;
          health.push((await fetch(`${base}/healthz`)).status);
          peak = Math.max(peak, await resident());
        }
      }
      expect(rest).toBe('');
      expect(streamed).toBe(EVENTS);
      // Checked many times while the stream was open, and answered every time.
      expect(health.length).toBeGreaterThan(10);
      expect(new Set(health)).toEqual(new Set([200]));
      expect(peak - baseline).toBeLessThan(MAX_GROWTH_BYTES);
    });
  },
);
