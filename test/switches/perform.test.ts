/**
 * perform: what any switch asks for, carried out through the engine with its
 * actor, answering one sentence that says what happens and when (in the
 * environment's zone and UTC); refusals say why and change nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Environment } from '../../src/core/glossary.js';
import type { Store } from '../../src/store/store.js';
import { perform, SwitchRefused, whenText } from '../../src/switches/perform.js';
import type { SwitchRequest } from '../../src/switches/perform.js';
import { officeHours } from '../engine/fixtures.js';
import { harness } from '../engine/harness.js';
import { at } from '../helpers.js';
import { DATABASES } from '../store/databases.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const paris: Environment = {
  name: 'paris',
  timezone: 'Europe/Paris',
  schedule: 'office-hours',
  graceMs: 15 * MINUTE,
  maxReservationMs: 4 * HOUR,
  tiers: [
    { name: 'apps', select: [{ provider: 'sandbox', kinds: ['ec2'], tags: { env: 'paris' } }] },
  ],
};
const web: Environment = {
  name: 'web',
  timezone: 'UTC',
  schedule: 'office-hours',
  tiers: [
    { name: 'apps', select: [{ provider: 'sandbox', kinds: ['ecs'], tags: { env: 'web' } }] },
  ],
};
const byName = new Map([paris, web].map((e) => [e.name, e]));

describe.each(DATABASES)('perform, on $name', (database) => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  /** Monday 1 June 2026, 10:00 UTC (12:00 in Paris): both environments are on. */
  async function open(start = '2026-06-01T10:00Z') {
    store = await database.open();
    const h = await harness(store, {
      schedules: [officeHours],
      environments: [paris, web],
      seeds: [
        { kind: 'ec2', name: 'paris-web', tags: { env: 'paris' } },
        { kind: 'ecs', name: 'web-api', tags: { env: 'web' } },
      ],
      start,
    });
    const run = (request: SwitchRequest, actor = 'hook:test') =>
      perform(h.engine, byName, request, actor, h.clock.now());
    return { ...h, store, run };
  }

  it('stop: after the grace, said in the zone and UTC, recorded as the actor', async () => {
    const h = await open();
    const outcome = await h.run({ action: 'stop', environment: 'paris' }, 'hook:ci');
    expect(outcome.said).toBe('paris stops at 12:15 Europe/Paris (10:15 UTC)');
    const runs = await h.store.listRuns({ environment: 'paris' });
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      id: outcome.runId,
      direction: 'stop',
      actor: 'hook:ci',
      act_at: h.clock.now() + 15 * MINUTE,
    });
  });

  it('stop with a grace of its own; none at all stops now', async () => {
    const h = await open();
    expect((await h.run({ action: 'stop', environment: 'paris', grace: 5 * MINUTE })).said).toBe(
      'paris stops at 12:05 Europe/Paris (10:05 UTC)',
    );
    expect((await h.run({ action: 'stop', environment: 'paris', grace: 0 })).said).toBe(
      'paris stops now',
    );
  });

  it('start: now, as a run of the actor', async () => {
    const h = await open('2026-06-01T19:00Z');
    const outcome = await h.run(
      { action: 'start', environment: 'paris' },
      'sns:button (message m-1)',
    );
    expect(outcome.said).toBe('paris starts now');
    const runs = await h.store.listRuns({ environment: 'paris' });
    expect(runs.map((r) => [r.id, r.direction, r.actor])).toEqual([
      [outcome.runId, 'start', 'sns:button (message m-1)'],
    ]);
  });

  it('reserve: on from now for the duration asked', async () => {
    const h = await open();
    const outcome = await h.run({ action: 'reserve', environment: 'paris', for: 2 * HOUR });
    expect(outcome).toEqual({
      said: 'paris is reserved: on now until 14:00 Europe/Paris (12:00 UTC)',
    });
    const reservations = await h.store.listReservations({ environments: ['paris'] });
    expect(reservations).toHaveLength(1);
    expect(reservations[0]).toMatchObject({
      from: h.clock.now(),
      to: h.clock.now() + 2 * HOUR,
      actor: 'hook:test',
    });
  });

  it("reserve is refused longer than the environment's max_reservation, or without a duration", async () => {
    const h = await open();
    await expect(h.run({ action: 'reserve', environment: 'paris', for: 5 * HOUR })).rejects.toThrow(
      new SwitchRefused('paris takes reservations of at most 4 h (max_reservation); ask for less'),
    );
    await expect(h.run({ action: 'reserve', environment: 'paris' })).rejects.toThrow(
      'reserve needs a duration, e.g. for: 2h',
    );
    expect(await h.store.listReservations({ environments: ['paris'] })).toEqual([]);
  });

  it('boost: an environment of services, until when it ends', async () => {
    const h = await open();
    const outcome = await h.run({ action: 'boost', environment: 'web', for: 30 * MINUTE });
    expect(outcome.said).toBe('web is boosted until 10:30 UTC');
    const runs = await h.store.listRuns({ environment: 'web' });
    expect(runs.map((r) => [r.id, r.direction])).toEqual([[outcome.runId, 'boost']]);
  });

  it("the engine's refusals come back as SwitchRefused with its reason, and change nothing", async () => {
    const h = await open();
    const refusal = h.run({ action: 'boost', environment: 'paris', for: 30 * MINUTE });
    await expect(refusal).rejects.toBeInstanceOf(SwitchRefused);
    await expect(refusal).rejects.toThrow('paris selects no resource that can be boosted');
    await expect(
      h.run({ action: 'boost', environment: 'web', for: 8 * 24 * HOUR }),
    ).rejects.toThrow('a boost lasts at most 7d; ask for less');
    // Office hours end at 18:00: a boost past them is refused by the engine.
    await expect(h.run({ action: 'boost', environment: 'web', for: 9 * HOUR })).rejects.toThrow(
      SwitchRefused,
    );
    expect(await h.store.listRuns({})).toEqual([]);
  });

  it('an unknown environment is refused by name', async () => {
    const h = await open();
    await expect(h.run({ action: 'start', environment: 'nope' })).rejects.toThrow(
      new SwitchRefused('there is no environment "nope"'),
    );
  });
});

describe('whenText', () => {
  const now = at('2026-06-01T10:00Z');
  it('says the time in the zone and in UTC, with the date when it is another day there', () => {
    expect(whenText(at('2026-06-01T10:15Z'), 'Europe/Paris', now)).toBe(
      '12:15 Europe/Paris (10:15 UTC)',
    );
    expect(whenText(at('2026-06-02T07:00Z'), 'Europe/Paris', now)).toBe(
      'Tue 2 Jun 09:00 Europe/Paris (07:00 UTC)',
    );
    // 22:30 UTC is already the next day in Paris.
    expect(whenText(at('2026-06-01T22:30Z'), 'Europe/Paris', now)).toBe(
      'Tue 2 Jun 00:30 Europe/Paris (22:30 UTC)',
    );
    expect(whenText(at('2026-06-01T10:15Z'), 'UTC', now)).toBe('10:15 UTC');
  });
});
