/**
 * GET /api/v1/runs/:id/stream on a real service (as `lightsout serve` starts it,
 * sandbox resources, the wall clock): a stop's stream says each change the engine
 * makes, grace → acting → its steps done → `end`, then closes; a change made by
 * another replica (another engine on the same store, which wakes nothing here) is
 * seen too; a client that reconnects with Last-Event-ID is not told again what it
 * saw; the session cookie works and a team's session gets another team's run as
 * unknown; the number of streams is bounded; and stopping the service ends open
 * streams instead of waiting on them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { newToken } from '../../src/api/tokens.js';
import { createLogger } from '../../src/app/logger.js';
import type { Service } from '../../src/app/service.js';
import { startService } from '../../src/app/service.js';
import { parseConfig } from '../../src/config/load.js';
import { SystemClock } from '../../src/engine/clock.js';
import { Engine } from '../../src/engine/engine.js';
import type { Role } from '../../src/store/schema.js';
import { openStore } from '../../src/store/store.js';
import { DATABASES } from '../store/databases.js';

const CONFIG = `
timezone: Europe/Paris
environments:
  web:
    team: payments
    tiers:
      - { name: data, select: { provider: sandbox, kinds: [rds], tags: { env: web } } }
      - { name: apps, select: { provider: sandbox, kinds: [ec2], tags: { env: web } } }
  search:
    team: search
    select: { provider: sandbox, tags: { env: search } }
sandbox:
  resources:
    - { kind: rds, name: web-db, tags: { env: web } }
    - { kind: ec2, name: web-1, tags: { env: web } }
    - { kind: ec2, name: search-1, tags: { env: search } }
`;

interface SseEvent {
  readonly event: string;
  readonly id: string | undefined;
  readonly data: Record<string, unknown>;
}

interface Stream {
  readonly status: number;
  readonly contentType: string;
  /** The body of an answer that is not a stream (a problem). */
  readonly text: string;
  /** The next event, or undefined when none comes within `ms` (or the stream ended). */
  next(ms?: number): Promise<SseEvent | undefined>;
  /** Comment lines seen so far (heartbeats). */
  readonly comments: string[];
  /** Resolves when the server closed the stream. */
  readonly ended: Promise<void>;
  close(): void;
}

/** A stream read as a browser would, its events parsed as the SSE format says. */
async function openStream(url: string, headers: Record<string, string>): Promise<Stream> {
  const abort = new AbortController();
  const response = await fetch(url, { headers, signal: abort.signal });
  const contentType = response.headers.get('content-type') ?? '';
  if (!contentType.startsWith('text/event-stream')) {
    const text = await response.text();
    const none = Promise.resolve(undefined);
    return {
      status: response.status,
      contentType,
      text,
      next: () => none,
      comments: [],
      ended: Promise.resolve(),
      close: () => undefined,
    };
  }
  const events: SseEvent[] = [];
  const comments: string[] = [];
  let wake: (() => void) | undefined;
  let done = false;
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const ended = (async () => {
    let buffer = '';
    try {
      for (;;) {
        const chunk = (await reader.read()) as { value?: Uint8Array; done: boolean };
        if (chunk.done) break;
        buffer += decoder.decode(chunk.value, { stream: true });
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const fields: Record<string, string> = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line);
            const match = /^(\w+): ?(.*)$/.exec(line);
            if (match !== null) fields[match[1]!] = match[2]!;
          }
          if (fields.data !== undefined)
            events.push({
              event: fields.event ?? 'message',
              id: fields.id,
              data: JSON.parse(fields.data) as Record<string, unknown>,
            });
          wake?.();
        }
      }
    } catch {
      // aborted by the test
    }
    done = true;
    wake?.();
  })();
  return {
    status: response.status,
    contentType,
    text: '',
    comments,
    ended,
    async next(ms = 10_000) {
      const until = Date.now() + ms;
      while (events.length === 0 && !done && Date.now() < until)
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, Math.max(0, until - Date.now()));
        });
      return events.shift();
    },
    close: () => {
      abort.abort();
    },
  };
}

describe.each(DATABASES)('run streams on $name', (database) => {
  let service: Service | undefined;
  let url = '';
  const tokens = new Map<string, string>();

  const start = async (runStreams: Parameters<typeof startService>[0]['runStreams'] = {}) => {
    const loaded = parseConfig(CONFIG, 'lightsout.yaml');
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
    url = database.url();
    service = await startService({
      config: loaded.config,
      db: url,
      clock: new SystemClock(),
      log: createLogger(undefined, 'silent'),
      port: 0,
      host: '127.0.0.1',
      // Sandbox resources settle in a second or two, and the engine looks every 100 ms.
      settleScale: 0.04,
      pollMs: 100,
      runStreams: { pollMs: 200, ...runStreams },
      // Both environments on for a day: a stop has something to do.
      beforeFirstPass: async ({ engine, clock }) => {
        for (const name of ['web', 'search'])
          await engine.extend(name, clock.now() + 86_400_000, 'test');
      },
    });
    for (const [name, role, team] of [
      ['viewer', 'viewer', undefined],
      ['operator', 'operator', undefined],
      ['search-viewer', 'viewer', 'search'],
    ] as [string, Role, string | undefined][]) {
      const { token, hash } = newToken();
      await service.store.addToken({ id: name, name, role, team, hash }, Date.now());
      tokens.set(name, token);
    }
    return service;
  };
  const base = () => `http://127.0.0.1:${service!.port}`;
  const bearer = (who: string) => ({ authorization: `Bearer ${tokens.get(who)!}` });
  const api = async (who: string, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base()}${path}`, {
      method,
      headers: { ...bearer(who), 'content-type': 'application/json' },
      body: JSON.stringify(body ?? {}),
    });
    return (await response.json()) as Record<string, unknown>;
  };
  /** An ad-hoc stop of web, as an operator asks for one. */
  const stop = async (grace: string) =>
    String((await api('operator', 'POST', '/api/v1/environments/web/stop', { grace })).id);
  const stream = (id: string, headers: Record<string, string> = bearer('viewer')) =>
    openStream(`${base()}/api/v1/runs/${id}/stream`, headers);

  afterEach(async () => {
    await service?.stop();
    service = undefined;
  });

  it("says every change the engine makes: grace, acting, each step's outcome, then end, and closes", async () => {
    await start();
    const id = await stop('2s');
    const live = await stream(id);
    expect(live.status).toBe(200);
    expect(live.contentType).toMatch(/^text\/event-stream/);
    const seen: SseEvent[] = [];
    for (let event = await live.next(); event !== undefined; event = await live.next())
      seen.push(event);
    await live.ended;
    const statuses = seen.map((e) => `${e.event}:${String(e.data.status)}`);
    expect(statuses[0]).toBe('run:grace');
    expect(statuses).toContain('run:acting');
    expect(statuses.at(-1)).toBe('end:succeeded');
    expect(statuses.filter((s) => s.startsWith('end:'))).toHaveLength(1);
    // Every event differs from the one before it, and its id says so.
    const ids = seen.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    // The steps, tier by tier: the database before the instance, each brought off.
    const steps = (e: SseEvent) =>
      (e.data.steps as { resource: string; tier: number; status: string }[]).map(
        (s) => `${s.tier}:${s.resource.split(':').pop()!}:${s.status}`,
      );
    const last = seen.at(-1)!;
    expect(steps(last)).toEqual([
      expect.stringMatching(/^0:.*web-db:done$/) as unknown,
      expect.stringMatching(/^1:.*web-1:done$/) as unknown,
    ]);
    // While acting, a step was seen under way before the run ended.
    expect(
      seen.some(
        (e) => e.data.status === 'acting' && steps(e).some((s) => /:(pending|acted)$/.test(s)),
      ),
    ).toBe(true);
    expect(last.data).toMatchObject({
      environment: 'web',
      direction: 'stop',
      timezone: 'Europe/Paris',
      cancelled: null,
      keepRunning: [],
    });
    // A run that is over answers its end alone.
    const again = await stream(id);
    expect(await again.next()).toMatchObject({ event: 'end', data: { status: 'succeeded' } });
    expect(await again.next(500)).toBeUndefined();
  }, 60_000);

  it('sees a cancel made by another replica, says who cancelled, and tells a reconnecting client only what changed', async () => {
    await start();
    const id = await stop('1h');
    const first = await stream(id);
    const grace = await first.next();
    expect(grace).toMatchObject({ event: 'run', data: { status: 'grace', cancelled: null } });
    // The warning's choices, with the instants its links would keep it on until.
    const keep = grace!.data.keepRunning as { action: string; until: string }[];
    expect(keep.map((k) => k.action)).toEqual(['keep-1h']);
    expect(Date.parse(keep[0]!.until)).toBe(Date.parse(String(grace!.data.actAt)) + 3_600_000);
    first.close();
    // Reconnecting with the id it saw: nothing new, so nothing is sent.
    const second = await stream(id, { ...bearer('viewer'), 'last-event-id': grace!.id! });
    expect(await second.next(700)).toBeUndefined();
    // Another replica: its own engine on the same store. Nothing in this process is told.
    const store = await openStore(url);
    const loaded = parseConfig(CONFIG, 'lightsout.yaml');
    if (!loaded.ok) throw new Error('config');
    const other = new Engine({
      store,
      providers: new Map(),
      clock: new SystemClock(),
      notifier: { send: () => Promise.resolve() },
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
      schedules: loaded.config.fleet.schedules,
      environments: loaded.config.fleet.environments,
      owner: 'replica-2',
    });
    const keepOn = Date.now() + 2 * 3_600_000;
    await other.cancel(id, 'api:someone-else', keepOn);
    const end = await second.next();
    expect(end).toMatchObject({
      event: 'end',
      data: {
        status: 'cancelled',
        cancelled: { by: 'api:someone-else', keepOnUntil: new Date(keepOn).toISOString() },
      },
    });
    await second.ended;
    await store.close();
  }, 60_000);

  it('works with the session cookie; a team sees another team’s run as unknown; refusals are problems', async () => {
    await start({ heartbeatMs: 200 });
    const id = await stop('1h');
    const session = await fetch(`${base()}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: tokens.get('viewer') }),
    });
    const cookie = session.headers.get('set-cookie')!.split(';')[0]!;
    const live = await stream(id, { cookie, accept: 'text/event-stream' });
    expect(await live.next()).toMatchObject({ event: 'run', data: { id, status: 'grace' } });
    // Heartbeats keep a quiet stream open.
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(live.comments.filter((c) => c.includes('heartbeat')).length).toBeGreaterThan(0);
    live.close();

    const team = await stream(id, bearer('search-viewer'));
    expect(team.status).toBe(404);
    expect(team.contentType).toContain('application/problem+json');
    expect(JSON.parse(team.text)).toMatchObject({
      type: expect.stringMatching(/unknown-run$/) as unknown,
    });
    expect(team.text).not.toContain('web');
    const nobody = await stream(id, {});
    expect(nobody.status).toBe(401);
    expect(nobody.contentType).toContain('application/problem+json');
  }, 60_000);

  it('serves a bounded number of streams, and a stop of the service ends them instead of waiting', async () => {
    await start({ maxStreams: 2 });
    const id = await stop('1h');
    const open = [await stream(id), await stream(id)];
    for (const s of open) expect(await s.next()).toMatchObject({ event: 'run' });
    const third = await stream(id);
    expect(third.status).toBe(503);
    expect(JSON.parse(third.text)).toMatchObject({
      type: expect.stringMatching(/too-many-streams$/) as unknown,
    });
    // One closes: there is room again.
    open[0]!.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const fourth = await stream(id);
    expect(fourth.status).toBe(200);
    expect(await fourth.next()).toMatchObject({ event: 'run' });

    const stopping = Date.now();
    await service!.stop();
    service = undefined;
    // Not the clients' keep-alive (4 s): the streams end, then their connections close at once.
    expect(Date.now() - stopping).toBeLessThan(2_000);
    await open[1]!.ended;
    await fourth.ended;
  }, 60_000);

  it('lets one caller hold 10 streams at most, and others still get theirs', async () => {
    await start();
    const id = await stop('1h');
    const mine = await Promise.all(Array.from({ length: 10 }, () => stream(id)));
    for (const s of mine) expect(s.status).toBe(200);
    const eleventh = await stream(id);
    expect(eleventh.status).toBe(429);
    expect(JSON.parse(eleventh.text)).toMatchObject({
      type: expect.stringMatching(/too-many-streams$/) as unknown,
    });
    const operators = await stream(id, bearer('operator'));
    expect(operators.status).toBe(200);
    for (const s of [...mine, operators]) s.close();
  }, 60_000);
});
