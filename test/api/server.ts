/**
 * The API served over real HTTP on one test database, as `lightsout serve` serves
 * it (same fastify options), with an admin, an operator and a viewer token, for
 * the input and fuzz suites.
 */
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { API_SERVER_OPTIONS, serveApi } from '../../src/api/api.js';
import { WebSessions } from '../../src/api/session.js';

import { newToken } from '../../src/api/tokens.js';
import type { Environment } from '../../src/core/glossary.js';
import { VirtualClock } from '../../src/engine/clock.js';
import { Engine } from '../../src/engine/engine.js';
import type { Role } from '../../src/store/schema.js';
import type { Store } from '../../src/store/store.js';
import { expressionSchedule, periodSchedule } from '../core/build.js';
import { at } from '../helpers.js';
import type { TestDatabase } from '../store/databases.js';

const officeHours = {
  ...periodSchedule('Europe/Paris', [{ days: 'mon-fri', start: '08:00', stop: '18:00' }]),
  name: 'office-hours',
};
/** Cron and public holidays: the costliest schedule to plan, per day planned. */
const businessDays = {
  ...expressionSchedule('Europe/Paris', 'cron(0 6 ? * MON-FRI *)', 'cron(0 20 ? * MON-FRI *)', {
    holidays: ['FR'],
  }),
  name: 'business-days',
};
const schedules = new Map([
  ['office-hours', officeHours],
  ['business-days', businessDays],
]);
export const environments: Environment[] = [
  { name: 'dev', timezone: 'Europe/Paris', schedule: 'office-hours', team: 'payments' },
  { name: 'lab', timezone: 'Europe/Paris', team: 'payments', maxReservationMs: 2 * 86_400_000 },
  // A config may allow long reservations: answers still plan a bounded window.
  { name: 'long', timezone: 'UTC', schedule: 'business-days', maxReservationMs: 400 * 86_400_000 },
];
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

export interface Answer {
  readonly status: number;
  readonly type: string;
  readonly text: string;
  readonly body: Record<string, unknown> | undefined;
}

export interface ServedApi {
  readonly base: string;
  readonly store: Store;
  readonly engine: Engine;
  readonly clock: VirtualClock;
  readonly http: FastifyInstance;
  /** Errors the API logged as unexpected (its 500s). */
  readonly logged: unknown[];
  readonly call: (
    who: string | undefined,
    method: string,
    path: string,
    body?: unknown,
  ) => Promise<Answer>;
  /** Bytes written as they are on a connection of its own; answers what came back. */
  readonly raw: (request: string) => Promise<string>;
  readonly tokenOf: (name: string) => string;
  readonly close: () => Promise<void>;
}

/** Monday 1 June 2026, 14:00 in Paris. */
export const NOW = at('2026-06-01T12:00Z');

export async function serveOn(database: TestDatabase): Promise<ServedApi> {
  const store = await database.open();
  const clock = new VirtualClock(NOW);
  const engine = new Engine({
    store,
    providers: new Map(),
    clock,
    notifier: { send: () => Promise.resolve() },
    log: quiet,
    schedules,
    environments,
  });
  await store.upsertResources(
    'lab',
    [{ id: 'aws:ec2:eu-west-3:1:i-0abc', provider: 'aws', kind: 'ec2', name: 'box', tags: {} }],
    clock.now(),
  );
  const logged: unknown[] = [];
  const http = Fastify(API_SERVER_OPTIONS);
  await serveApi(
    http,
    {
      store,
      engine,
      environments,
      schedules,
      now: () => clock.now(),
      sessions: new WebSessions(),
    },
    { rateLimitPerMinute: 1_000_000, logError: (error) => logged.push(error) },
  );
  await http.listen({ port: 0, host: '127.0.0.1' });
  const { port } = http.server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  const tokens = new Map<string, string>();
  for (const [name, role] of [
    ['admin', 'admin'],
    ['operator', 'operator'],
    ['viewer', 'viewer'],
  ] as [string, Role][]) {
    const { token, hash } = newToken();
    await store.addToken({ id: name, name, role, hash }, clock.now());
    tokens.set(name, token);
  }
  const tokenOf = (name: string) => tokens.get(name) ?? name;
  return {
    base,
    store,
    engine,
    clock,
    http,
    logged,
    tokenOf,
    async call(who, method, path, body) {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: {
          ...(who === undefined ? {} : { authorization: `Bearer ${tokenOf(who)}` }),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined
          ? {}
          : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await response.text();
      const type = response.headers.get('content-type') ?? '';
      return {
        status: response.status,
        type,
        text,
        body: type.includes('json') ? (JSON.parse(text) as Record<string, unknown>) : undefined,
      };
    },
    raw: (request) =>
      new Promise((resolve) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.end(request);
        });
        const chunks: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
        });
        socket.on('close', () => {
          resolve(Buffer.concat(chunks).toString());
        });
        // A server that refuses a request closes the connection, maybe while the rest
        // is still being written: what it answered before is the answer.
        socket.on('error', () => undefined);
      }),
    async close() {
      await http.close();
      await store.close();
    },
  };
}

/** The status, the content type and the JSON body of a raw HTTP/1.1 answer. */
export function parseRaw(answer: string): { status: number; type: string; body: unknown } {
  const [head = '', body = ''] = answer.split('\r\n\r\n', 2);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  const type = /^content-type: *(.*)$/im.exec(head)?.[1]?.trim() ?? '';
  return { status, type, body: body === '' ? undefined : (JSON.parse(body) as unknown) };
}
