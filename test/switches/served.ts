/**
 * The API with its hook switches served over real HTTP, on the engine, the
 * sandbox provider and a test database, as `lightsout serve` serves it; every
 * answer and log line kept, so a test can look for secrets in them.
 */
import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';
import { API_SERVER_OPTIONS, serveApi } from '../../src/api/api.js';
import type { Environment } from '../../src/core/glossary.js';
import type { Hook } from '../../src/switches/hooks.js';
import type { FetchText } from '../../src/switches/sns-messages.js';
import type { Store } from '../../src/store/store.js';
import { officeHours } from '../engine/fixtures.js';
import { harness } from '../engine/harness.js';
import type { TestDatabase } from '../store/databases.js';

/** Monday 1 June 2026, 10:00 UTC: dev is on (office hours 08:00-18:00 UTC). */
export const START = '2026-06-01T10:00Z';

export const dev: Environment = {
  name: 'dev',
  timezone: 'UTC',
  schedule: 'office-hours',
  team: 'payments',
  graceMs: 15 * 60_000,
  tiers: [
    { name: 'apps', select: [{ provider: 'sandbox', kinds: ['ec2'], tags: { env: 'dev' } }] },
  ],
};

export interface Answer {
  readonly status: number;
  readonly type: string;
  readonly text: string;
  readonly body: Record<string, unknown>;
}

export async function serveHooks(
  database: TestDatabase,
  hooks: ReadonlyMap<string, Hook>,
  fetchText: FetchText = () => Promise.reject(new Error('no fetch in this test')),
) {
  const store: Store = await database.open();
  const h = await harness(store, {
    schedules: [officeHours],
    environments: [dev],
    seeds: [{ kind: 'ec2', name: 'dev-web', tags: { env: 'dev' } }],
    start: START,
  });
  const logs: string[] = [];
  const line = (level: string) => (fields: Record<string, unknown>, message: string) => {
    logs.push(`${level} ${message} ${JSON.stringify(fields)}`);
  };
  const http = Fastify(API_SERVER_OPTIONS);
  await serveApi(
    http,
    {
      store,
      engine: h.engine,
      environments: [dev],
      schedules: new Map([[officeHours.name, officeHours]]),
      now: () => h.clock.now(),
      hooks: {
        hooks,
        log: { info: line('info'), warn: line('warn') },
        fetchText,
        // The test's clock stands in for the wall clock senders sign with.
        wallNow: () => h.clock.now(),
      },
    },
    { logError: (error) => logs.push(`error ${String(error)}`) },
  );
  await http.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(http.server.address() as AddressInfo).port}`;
  const answers: Answer[] = [];
  const post = async (path: string, body: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${base}${path}`, { method: 'POST', headers, body });
    const text = await response.text();
    const answer = {
      status: response.status,
      type: response.headers.get('content-type') ?? '',
      text,
      body: JSON.parse(text) as Record<string, unknown>,
    };
    answers.push(answer);
    return answer;
  };
  return {
    ...h,
    store,
    post,
    logs,
    answers,
    /** Everything said to the outside: answers, and log lines. */
    said: () => [...answers.map((a) => a.text), ...logs].join('\n'),
    runs: () => store.listRuns({ environment: 'dev' }),
    reservations: () => store.listReservations({ environments: ['dev'] }),
    async close() {
      await http.close();
      await store.close();
    },
  };
}
