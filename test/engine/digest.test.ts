/**
 * A channel's digest: its run reports wait out the period and go as one message
 * listing each run's line (failed runs first); at most one message per period;
 * warnings and failure alerts never wait; two replicas never send one twice.
 * On both databases.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Environment } from '../../src/core/glossary.js';
import type { Notice } from '../../src/engine/ports.js';
import type { Store } from '../../src/store/store.js';
import { at } from '../helpers.js';
import { DATABASES } from '../store/databases.js';
import { officeHours } from './fixtures.js';
import { harness } from './harness.js';

const PERIOD = 15 * 60_000;

function environment(name: string): Environment {
  return {
    name,
    timezone: 'UTC',
    schedule: 'office-hours',
    graceMs: 15 * 60_000,
    // "digest" gathers its reports; "live" gets each at once.
    notify: ['digest', 'live'],
    tiers: [{ name: 'apps', select: [{ provider: 'sandbox', tags: { env: name } }] }],
  };
}

describe.each(DATABASES)('digests, on $name', (database) => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  async function setup() {
    store = await database.open();
    const h = await harness(store, {
      schedules: [officeHours],
      environments: [environment('dev'), environment('qa')],
      seeds: [
        { kind: 'ec2' as const, name: 'dev-web', tags: { env: 'dev' } },
        { kind: 'ec2' as const, name: 'qa-web', tags: { env: 'qa' } },
      ],
      start: '2026-06-01T17:00Z',
    });
    const digests = new Map([['digest', PERIOD]]);
    const engine = h.makeEngine('replica-a', undefined, { digests });
    const other = h.makeEngine('replica-b', undefined, { digests });
    const to = (channel: string, kind: Notice['kind']) =>
      h.notifier.notices.filter((n) => n.channel === channel && n.kind === kind);
    return { ...h, engine, other, to };
  }

  it('gathers two runs of the period into one message, failures first; warnings and alerts do not wait', async () => {
    const h = await setup();
    h.sandbox.inject('dev-web', { kind: 'fail', reason: 'UnauthorizedOperation' });
    for (const t of ['17:00', '17:45']) await h.tickAt(`2026-06-01T${t}Z`, h.engine);
    expect(h.to('digest', 'stop-warning')).toHaveLength(2);
    await h.tickAt('2026-06-01T18:00Z', h.engine); // both stop: dev fails, qa succeeds
    expect(h.to('live', 'run-summary')).toHaveLength(2);
    expect(h.to('digest', 'run-failed')).toHaveLength(1);
    expect(h.to('digest', 'run-summary')).toEqual([]);
    expect(h.to('digest', 'run-digest')).toEqual([]);
    h.sandbox.inject('dev-web', undefined);
    await h.tickAt('2026-06-01T18:14Z', h.engine); // dev's retry, 30 s after, succeeds
    expect(h.to('digest', 'run-digest')).toEqual([]);
    // The runs ended a moment after 18:00 (their resources took their time): due after 18:15.
    await h.tickAt('2026-06-01T18:16Z', h.engine);
    const [digest] = h.to('digest', 'run-digest');
    expect(h.to('digest', 'run-digest')).toHaveLength(1);
    expect(h.to('digest', 'run-failed')).toHaveLength(1);
    expect(digest?.text).toBe('3 runs ended, 1 failed');
    const runs = digest?.details?.['runs'] as {
      environment: string;
      outcome: string;
      text: string;
    }[];
    expect(runs.map((r) => [r.environment, r.outcome])).toEqual([
      ['dev', 'failed'],
      ['qa', 'succeeded'],
      ['dev', 'succeeded'],
    ]);
    expect(runs[0]?.text).toContain('UnauthorizedOperation');
    // Settled together: every report of the digest is sent, once.
    const sent = (await store!.queryEvents({ kind: 'notice.sent' })).events.filter(
      (e) => e.payload['channel'] === 'digest' && e.payload['notice'] === 'run-summary',
    );
    expect(sent).toHaveLength(3);
  });

  it('sends at most one message per period: a report after a digest waits for the next', async () => {
    const h = await setup();
    for (const t of ['17:00', '17:45', '18:00', '18:16'])
      await h.tickAt(`2026-06-01T${t}Z`, h.engine);
    expect(h.to('digest', 'run-digest')).toHaveLength(1);
    h.clock.set(at('2026-06-01T18:20Z'));
    await h.engine.command('dev', 'start', 'api:bob');
    await h.tickAt('2026-06-01T18:20Z', h.engine);
    await h.tickAt('2026-06-01T18:34Z', h.engine);
    expect(h.to('digest', 'run-digest')).toHaveLength(1);
    await h.tickAt('2026-06-01T18:36Z', h.engine);
    const digests = h.to('digest', 'run-digest');
    expect(digests).toHaveLength(2);
    expect(digests[1]?.text).toBe('1 run ended, 0 failed');
    expect(digests[1]?.environment).toBe('dev');
  });

  it('two replicas delivering at the same instant send one digest', async () => {
    const h = await setup();
    for (const t of ['17:00', '17:45', '18:00']) await h.tickAt(`2026-06-01T${t}Z`, h.engine);
    h.clock.set(at('2026-06-01T18:16Z'));
    await Promise.all([h.engine.tick(), h.other.tick(), h.engine.tick(), h.other.tick()]);
    await Promise.all([h.engine.idle(), h.other.idle()]);
    expect(h.to('digest', 'run-digest')).toHaveLength(1);
    expect((h.to('digest', 'run-digest')[0]?.details?.['runs'] as unknown[]).length).toBe(2);
    const pending = await store!.dueNotices(at('2026-06-02T00:00Z'));
    expect(pending.filter((n) => n.channel === 'digest')).toEqual([]);
  });
});
