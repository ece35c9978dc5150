/**
 * The Slack app as `lightsout serve` wires it from the config: secrets read from
 * the environment, `/hooks/slack/commands` served, a request with the wrong
 * signature refused and logged without the secret; a config whose secret cannot
 * be read does not start, and says which field.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/app/logger.js';
import type { Service } from '../../src/app/service.js';
import { startService } from '../../src/app/service.js';
import { parseConfig } from '../../src/config/load.js';
import { SystemClock } from '../../src/engine/clock.js';
import { slackSignature } from '../../src/switches/slack-signature.js';
import { DATABASES } from '../store/databases.js';

const SECRET = 'service-signing-secret-5f0c1d2e';
const VARIABLE = 'LIGHTSOUT_TEST_SLACK_SIGNING_SECRET';

const CONFIG = `
timezone: UTC
environments:
  dev: { team: payments }
switches:
  slack:
    signing_secret: \${${VARIABLE}}
    users:
      - { user: U0OLIVIA, role: operator }
`;

function configOf(text: string) {
  const loaded = parseConfig(text, 'lightsout.yaml');
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
  return loaded.config;
}

// The wiring does not depend on the database (slack-app.test.ts runs the commands on each): SQLite.
describe.each(DATABASES.slice(0, 1))('the Slack app in the service, on $name', (database) => {
  const lines: string[] = [];
  let service: Service;
  beforeAll(async () => {
    process.env[VARIABLE] = SECRET;
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    service = await startService({
      config: configOf(CONFIG),
      db: database.url(),
      clock: new SystemClock(),
      log: createLogger(sink, 'info'),
      port: 0,
      host: '127.0.0.1',
    });
  }, 60_000);
  afterAll(async () => {
    await service.stop();
    delete process.env.LIGHTSOUT_TEST_SLACK_SIGNING_SECRET;
  });

  const post = (body: string, secret: string) => {
    const ts = String(Math.floor(Date.now() / 1000));
    return fetch(`http://127.0.0.1:${service.port}/hooks/slack/commands`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': ts,
        'x-slack-signature': slackSignature(secret, ts, body),
      },
      body,
    });
  };

  it('answers a signed /lightsout status, ephemerally', async () => {
    const response = await post(
      'command=%2Flightsout&text=status&user_id=U0OLIVIA&trigger_id=1',
      SECRET,
    );
    expect(response.status).toBe(200);
    const answer = (await response.json()) as { response_type: string; text: string };
    expect(answer.response_type).toBe('ephemeral');
    expect(answer.text).toMatch(/^\*dev\* \(payments\): off by plan/);
  });

  it('refuses a request signed with another secret, and logs why without the secret', async () => {
    const response = await post(
      'command=%2Flightsout&text=status&user_id=U0OLIVIA&trigger_id=2',
      'nope',
    );
    expect(response.status).toBe(401);
    expect(lines.join('')).toContain('Slack request refused');
    expect(lines.join('')).not.toContain(SECRET);
  });

  it('takes only form bodies there: JSON is refused as a problem, not a crash', async () => {
    const response = await fetch(`http://127.0.0.1:${service.port}/hooks/slack/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"text":"status"}',
    });
    expect(response.status).toBe(415);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
  });

  it('a signing secret that cannot be read stops the start, naming the field', async () => {
    delete process.env.LIGHTSOUT_TEST_SLACK_MISSING;
    const config = configOf(CONFIG.replace(VARIABLE, 'LIGHTSOUT_TEST_SLACK_MISSING'));
    await expect(
      startService({
        config,
        db: database.url(),
        clock: new SystemClock(),
        log: createLogger(undefined, 'silent'),
        port: 0,
        host: '127.0.0.1',
      }),
    ).rejects.toThrow(
      'switches.slack.signing_secret: the environment variable LIGHTSOUT_TEST_SLACK_MISSING is not set',
    );
  });
});
