import { describe, expect, it } from 'vitest';
import { cli, configFile } from './run.js';

const PARIS = configFile(`
timezone: Europe/Paris
schedules:
  office-hours:
    periods:
      - { days: mon-fri, start: "07:00", stop: "19:00" }
    except: [2026-04-01]
environments:
  dev: { schedule: office-hours, team: payments }
  demo: {}
reservations:
  - { environment: demo, from: "2026-03-31T14:00", to: "2026-03-31T16:00" }
`);

describe('lightsout plan --json', () => {
  it('prints the state at --from and the transitions in UTC with milliseconds, in time order', async () => {
    const result = await cli([
      'plan',
      '--config',
      PARIS,
      '--from',
      '2026-03-30T00:00Z',
      '--to',
      '2026-04-02T00:00Z',
      '--json',
    ]);
    expect(result).toMatchObject({ code: 0, err: '' });
    expect(JSON.parse(result.out)).toEqual({
      environments: {
        dev: {
          initial: 'off',
          transitions: [
            { at: '2026-03-30T05:00:00.000Z', state: 'on' },
            { at: '2026-03-30T17:00:00.000Z', state: 'off' },
            { at: '2026-03-31T05:00:00.000Z', state: 'on' },
            { at: '2026-03-31T17:00:00.000Z', state: 'off' },
          ],
        },
        demo: {
          initial: 'off',
          transitions: [
            { at: '2026-03-31T12:00:00.000Z', state: 'on' },
            { at: '2026-03-31T14:00:00.000Z', state: 'off' },
          ],
        },
      },
    });
  });

  it('--env keeps only the named environments', async () => {
    const result = await cli(['plan', '--config', PARIS, '--env', 'demo', '--json']);
    expect(Object.keys((JSON.parse(result.out) as { environments: object }).environments)).toEqual([
      'demo',
    ]);
  });

  it('defaults to the next 7 days from now', async () => {
    const result = await cli(
      ['plan', '--config', PARIS, '--env', 'dev', '--json'],
      Date.parse('2026-06-01T00:00Z'),
    );
    const plan = (
      JSON.parse(result.out) as { environments: { dev: { transitions: { at: string }[] } } }
    ).environments.dev;
    expect(plan.transitions).toHaveLength(10);
    expect(plan.transitions.at(-1)?.at).toBe('2026-06-05T17:00:00.000Z');
  });
});

describe('lightsout plan (human output)', () => {
  it('shows each environment with its schedule in plain English and local and UTC times', async () => {
    const result = await cli([
      'plan',
      '--config',
      PARIS,
      '--from',
      '2026-03-30',
      '--to',
      '2026-03-31',
    ]);
    expect(result.code).toBe(0);
    expect(result.out).toContain('dev (team payments)');
    expect(result.out).toContain(
      'schedule office-hours: on 07:00–19:00, Monday through Friday; off all day on 2026-04-01 (Europe/Paris)',
    );
    expect(result.out).toContain('off at Mon 2026-03-30 00:00 +02:00 (2026-03-29T22:00:00.000Z)');
    expect(result.out).toMatch(/Mon 2026-03-30 07:00 \+02:00\s+2026-03-30T05:00:00.000Z\s+on/);
    expect(result.out).toContain('schedule: none; off unless reserved or held on');
  });
});

describe('lightsout plan describes every schedule it accepts', () => {
  it.each([
    ['0 7 * * 5#L', '0 19 * * 5#L', 'starts on 0 7 * * 5#L'],
    [
      'cron(0 7 ? * 6L *)',
      'cron(0 19 ? * 6L *)',
      'starts at 07:00, on the last Friday of the month',
    ],
    ['cron(0 7 15W * ? *)', 'cron(0 19 15W * ? *)', 'on the weekday nearest day 15 of the month'],
    ['cron(0 7 ? * 2-6 *)', 'cron(0 19 ? * 2-6 *)', 'Monday through Friday'],
  ])('%s', async (start, stop, words) => {
    const file = configFile(
      `schedules:\n  s: { start: "${start}", stop: "${stop}" }\nenvironments:\n  dev: { schedule: s }\n`,
    );
    const result = await cli(['plan', '--config', file]);
    expect(result.err).toBe('');
    expect(result.out).toContain(words);
  });
});

describe('lightsout plan refuses bad input with exit code 2 and the fix', () => {
  it.each([
    [
      ['--from', 'yesterday'],
      'error: --from "yesterday" is not a date and time; write an ISO 8601 date and time',
    ],
    [
      ['--from', '2026-06-02', '--to', '2026-06-01'],
      'error: --to (2026-05-31T22:00:00.000Z) must be later than --from (2026-06-01T22:00:00.000Z)',
    ],
    [['--from', '2020-01-01', '--to', '2030-01-01'], 'plan a shorter window'],
    [
      ['--env', 'prod'],
      'error: --env "prod" is not an environment of this config; known: dev, demo',
    ],
  ])('%j', async (args, message) => {
    const result = await cli(['plan', '--config', PARIS, ...args]);
    expect(result.code).toBe(2);
    expect(result.err).toContain(message);
  });

  it('a missing --config', async () => {
    const result = await cli(['plan']);
    expect(result.code).toBe(2);
    expect(result.err).toContain("required option '-c, --config <file>' not specified");
  });

  it('an invalid config exits 1 with its errors', async () => {
    const result = await cli(['plan', '--config', configFile('timezone: Nowhere/City\n')]);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(
      /lightsout\.yaml:1:11: error: timezone: "Nowhere\/City" is not an IANA time zone/,
    );
  });

  it('a config file that does not exist exits 1', async () => {
    const result = await cli(['plan', '--config', '/nonexistent/lightsout.yaml']);
    expect(result.code).toBe(1);
    expect(result.err).toContain(
      '/nonexistent/lightsout.yaml: error: cannot read the config file (no such file)',
    );
  });
});
