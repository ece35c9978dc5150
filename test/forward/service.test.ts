/**
 * Forwarding as `lightsout serve` runs it: the config's `forward` destination
 * gets the events of an ad-hoc stop,
 * with the notifiers' secrets (given through `${VARIABLE}`) in none of them,
 * also when a channel refuses and its error is recorded; and the loop ends with
 * the service.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/app/logger.js';
import type { Service } from '../../src/app/service.js';
import { startService } from '../../src/app/service.js';
import { wallClock } from '../../src/app/stored-clock.js';
import { loadConfigFile } from '../../src/config/load.js';
import { configFile } from '../cli/run.js';
import { waitFor } from '../process/serve.js';
import { DATABASES } from '../store/databases.js';

const secret = (label: string) => `${label}-${randomBytes(9).toString('hex')}`;
const SECRETS = {
  LIGHTSOUT_TEST_FWD_WEBHOOK_URL: `http://127.0.0.1:9/${secret('WEBHOOKPATHsecret')}`,
  LIGHTSOUT_TEST_FWD_WEBHOOK_KEY: secret('WEBHOOKKEYsecret'),
  LIGHTSOUT_TEST_FWD_SLACK_TOKEN: `xoxb-${secret('SLACKTOKENsecret')}`,
};

const eventbridge = mockClient(EventBridgeClient);

describe.each(DATABASES)('forwarding in the service, on $name', (database) => {
  let service: Service | undefined;
  const lines: string[] = [];
  beforeEach(() => {
    eventbridge.reset();
    eventbridge.on(PutEventsCommand).callsFake((input: { Entries?: PutEventsRequestEntry[] }) => ({
      FailedEntryCount: 0,
      Entries: (input.Entries ?? []).map((_, i) => ({ EventId: `id-${i}` })),
    }));
    Object.assign(process.env, SECRETS);
  });
  afterEach(async () => {
    await service?.stop();
    service = undefined;
    lines.length = 0;
    for (const name of Object.keys(SECRETS)) process.env[name] = '';
  });

  it('forwards the events of a stop, with no secret in any of them, and stops with the service', async () => {
    const loaded = await loadConfigFile(
      configFile(`
timezone: UTC
schedules:
  always:
    periods: [{ days: mon-sun, start: '00:00', stop: '24:00' }]
notifiers:
  hook: { type: webhook, url: '\${LIGHTSOUT_TEST_FWD_WEBHOOK_URL}', secret: '\${LIGHTSOUT_TEST_FWD_WEBHOOK_KEY}' }
  chat: { type: slack, token: '\${LIGHTSOUT_TEST_FWD_SLACK_TOKEN}', channel: '#nowhere' }
environments:
  dev:
    schedule: always
    notify: [hook]
    tiers:
      - { name: apps, select: { provider: sandbox, tags: { env: dev } } }
sandbox:
  resources:
    - { kind: ec2, name: dev-web, tags: { env: dev } }
forward:
  - { type: eventbridge, bus: lightsout, region: eu-west-3 }
`),
    );
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
    service = await startService({
      config: loaded.config,
      db: database.url(),
      clock: wallClock(),
      log: createLogger(
        new Writable({
          write(chunk: Buffer, _encoding, done) {
            lines.push(chunk.toString());
            done();
          },
        }),
        'info',
        'json',
      ),
      port: 0,
      host: '127.0.0.1',
      settleScale: 0.01,
      // The notices' outcomes are recorded after the run, with no change of plan to wake forwarding.
      forwardTickMs: 200,
    });
    await service.engine.command('dev', 'stop', 'alice', 0);
    const sent = () =>
      eventbridge.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries ?? []);
    // The summary, and the failure of its notice to the refusing webhook (an error recorded as an event).
    await waitFor('the run summary and the failed notice forwarded', () =>
      Promise.resolve(
        ['run.finished', 'notice.failed'].every((kind) =>
          sent().some((e) => e.DetailType === kind),
        ),
      ),
    );
    await service.stop();
    const callsAtStop = eventbridge.commandCalls(PutEventsCommand).length;
    const forwarded = sent();
    expect(forwarded.every((e) => e.EventBusName === 'lightsout' && e.Source === 'lightsout')).toBe(
      true,
    );
    const kinds = forwarded.map((e) => e.DetailType);
    expect(kinds).toContain('run.created');
    expect(kinds).toContain('notice.failed');
    const everything = JSON.stringify(forwarded) + lines.join('');
    for (const [name, value] of Object.entries(SECRETS)) {
      const path = value.replace(/^http:\/\/127\.0\.0\.1:9\//, '');
      expect(everything.includes(path), `${name} in a forwarded event or a log line`).toBe(false);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(eventbridge.commandCalls(PutEventsCommand)).toHaveLength(callsAtStop);
  });
});
