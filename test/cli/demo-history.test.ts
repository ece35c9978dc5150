/**
 * The demo's past fortnight, on every database: recorded as the engine records
 * runs (events through the store, into the power ledger), so the savings report
 * reads it the normal way and finds the hours the schedules planned off; every
 * event says it is demo history; staging's database, which refuses one stop,
 * saves that night less.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_HISTORY_ACTOR, seedDemoHistory } from '../../src/cli/demo-history.js';
import { formatDiagnostic, parseConfig } from '../../src/config/load.js';
import { VirtualClock } from '../../src/engine/clock.js';
import { Engine } from '../../src/engine/engine.js';
import { SandboxProvider } from '../../src/providers/sandbox/sandbox.js';
import { savingsReport } from '../../src/savings/report.js';
import type { Store } from '../../src/store/store.js';
import { DATABASES } from '../store/databases.js';

const CONFIG = `
timezone: UTC
schedules:
  office-hours:
    periods: [{ days: mon-fri, start: '07:00', stop: '19:00' }]
environments:
  dev:
    schedule: office-hours
    select: { provider: sandbox, tags: { env: dev } }
    savings: { hourly: 0.1 }
  staging:
    schedule: office-hours
    tiers:
      - { name: data, select: { provider: sandbox, kinds: [rds], tags: { env: staging } } }
      - { name: apps, select: { provider: sandbox, kinds: [ec2], tags: { env: staging } } }
sandbox:
  resources:
    - { kind: ec2, name: dev-web, tags: { env: dev } }
    - { kind: rds, name: dev-db, tags: { env: dev } }
    - { kind: rds, name: staging-db, tags: { env: staging } }
    - { kind: ec2, name: staging-web, tags: { env: staging } }
`;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Tuesday 1 December 2026, 06:30 UTC: the fortnight starts Tuesday 17 November, 06:30. */
const NOW = Date.parse('2026-12-01T06:30:00Z');
/**
 * Weekdays 07:00-19:00 on from 17 to 30 November: 10 days, 120 hours of 336.
 * Each run is recorded a minute after its transition, and the first stop a minute
 * after the fortnight starts: a resource's off time is within two minutes of this.
 */
const PLANNED_OFF = 336 - 120;
const TWO_MINUTES = 2 / 60;

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe.each(DATABASES)("the demo's history on $name", (database) => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  it('is read by the savings report as the planned off hours, each event labelled', async () => {
    const loaded = parseConfig(CONFIG, 'demo.yaml');
    if (!loaded.ok) throw new Error(loaded.diagnostics.map(formatDiagnostic).join('\n'));
    const { fleet, document } = loaded.config;
    store = await database.open();
    const clock = new VirtualClock(NOW);
    const sandbox = new SandboxProvider(store.db, clock);
    await sandbox.seed(document.sandbox?.resources ?? []);
    const engine = new Engine({
      store,
      providers: new Map([['sandbox', sandbox]]),
      clock,
      notifier: { send: () => Promise.resolve() },
      log: quiet,
      schedules: fleet.schedules,
      environments: fleet.environments,
    });

    const recorded = await seedDemoHistory({ engine, store, sandbox }, fleet.environments, NOW);

    // A stop at the start, then a start and a stop on each of the 10 weekdays, per environment.
    expect(recorded).toBe(2 * 21);
    const { events } = await store.queryEvents({ actor: DEMO_HISTORY_ACTOR });
    expect(events).toHaveLength(recorded);
    for (const event of events) {
      expect(event.kind).toBe('run.finished');
      expect(event.at).toBeLessThan(NOW);
      expect(event.payload).toMatchObject({
        demoHistory: true,
        notes: [expect.stringMatching(/^demo history/)],
      });
    }

    const report = await savingsReport(store, {
      window: { start: NOW - 14 * DAY, end: NOW },
      environments: fleet.environments,
      schedules: fleet.schedules,
    });
    const hoursOf = (environment: string) =>
      Object.fromEntries(
        report.environments
          .find((e) => e.environment === environment)!
          .resources.map((r) => [r.resource, r.hoursOff]),
      );
    const dev = hoursOf('dev');
    expect(Object.keys(dev).sort()).toEqual(['sandbox:ec2:dev-web', 'sandbox:rds:dev-db']);
    for (const hours of Object.values(dev))
      expect(Math.abs(hours - PLANNED_OFF)).toBeLessThan(TWO_MINUTES);
    // Priced by the config's flat rate: the ledger's hours times 0.1 USD.
    expect(report.environments[0]!.money).toBeCloseTo(
      0.1 * (dev['sandbox:ec2:dev-web']! + dev['sandbox:rds:dev-db']!),
      9,
    );

    // The third stop (Wednesday 18 November, 19:00) left staging's database on until 07:00.
    const staging = hoursOf('staging');
    expect(Math.abs(staging['sandbox:ec2:staging-web']! - PLANNED_OFF)).toBeLessThan(TWO_MINUTES);
    expect(Math.abs(staging['sandbox:rds:staging-db']! - (PLANNED_OFF - 12))).toBeLessThan(
      TWO_MINUTES,
    );
    const refused = events.filter(
      (e) => e.environment === 'staging' && e.payload['outcome'] === 'failed',
    );
    expect(refused.map((e) => new Date(e.at).toISOString())).toEqual(['2026-11-18T19:01:00.000Z']);
  });
});
