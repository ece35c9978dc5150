/**
 * `POST /hooks/NAME`: a body signed with the hook's secret (as our webhook
 * channel signs) carries out its mapped action through the engine; unsigned,
 * wrongly signed, stale and replayed requests do nothing, and the secret is never
 * said.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { signWebhook } from '../../src/notify/webhook.js';
import { inlineHookSecrets, resolveHooks } from '../../src/switches/hooks.js';
import type { Hook } from '../../src/switches/hooks.js';
import { DATABASES } from '../store/databases.js';
import { serveHooks } from './served.js';

const SECRET = 'hook-secret-5f2a9c7e1b';
const BUTTON_SECRET = 'button-secret-8d3e6a0f4c';
const MINUTE = 60_000;

const hooks = new Map<string, Hook>([
  [
    'ci-stop',
    {
      type: 'signed',
      secret: SECRET,
      do: { action: 'stop', environment: 'dev', grace: 10 * MINUTE },
    },
  ],
  [
    'button',
    {
      type: 'signed',
      secret: BUTTON_SECRET,
      field: 'clickType',
      when: {
        SINGLE: { action: 'reserve', environment: 'dev', for: 2 * 60 * MINUTE },
        DOUBLE: { action: 'stop', environment: 'dev' },
        LONG: { action: 'boost', environment: 'dev', for: 30 * MINUTE },
      },
    },
  ],
  ['topic', { type: 'sns', topicArn: 'arn:aws:sns:eu-west-3:123456789012:buttons' }],
]);

describe.each(DATABASES)('signed hooks, on $name', (database) => {
  let served: Awaited<ReturnType<typeof serveHooks>> | undefined;
  afterEach(async () => {
    await served?.close();
    served = undefined;
  });

  const open = async () => (served = await serveHooks(database, hooks));

  /** Headers signing `body` with `secret` at `seconds` (now by the served clock, unless given). */
  const signed = (secret: string, body: string, seconds?: number) => {
    const timestamp = String(seconds ?? Math.floor(served!.clock.now() / 1000));
    return {
      'content-type': 'application/json',
      'x-lightsout-timestamp': timestamp,
      'x-lightsout-signature': signWebhook(secret, timestamp, body),
    };
  };

  it('a signed request carries out the hook action, recorded as the hook, and answers 202', async () => {
    const s = await open();
    const body = JSON.stringify({ pipeline: 'nightly' });
    const answer = await s.post('/hooks/ci-stop', body, signed(SECRET, body));

    expect(answer.status).toBe(202);
    expect(answer.body.said).toBe('dev stops at 10:10 UTC');
    const runs = await s.runs();
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      id: answer.body.runId,
      direction: 'stop',
      status: 'grace',
      actor: 'hook:ci-stop',
      act_at: s.clock.now() + 10 * MINUTE,
    });
  });

  it("a message's field picks the action: SINGLE reserves, DOUBLE stops", async () => {
    const s = await open();
    const single = JSON.stringify({ serialNumber: 'G030', clickType: 'SINGLE' });
    const reserved = await s.post('/hooks/button', single, signed(BUTTON_SECRET, single));
    expect(reserved.status).toBe(202);
    expect(reserved.body.said).toBe('dev is reserved: on now until 12:00 UTC');
    const reservations = await s.reservations();
    expect(reservations).toHaveLength(1);
    expect(reservations[0]).toMatchObject({
      from: s.clock.now(),
      to: s.clock.now() + 120 * MINUTE,
      actor: 'hook:button',
    });

    const double = JSON.stringify({ clickType: 'DOUBLE' });
    const stopped = await s.post('/hooks/button', double, signed(BUTTON_SECRET, double));
    expect(stopped.status).toBe(202);
    expect(stopped.body.said).toBe('dev stops at 10:15 UTC');
  });

  it('a value that maps to nothing is 422, naming the field and the values the hook knows', async () => {
    const s = await open();
    for (const message of [{ clickType: 'TRIPLE' }, { other: 1 }]) {
      const body = JSON.stringify(message);
      const answer = await s.post('/hooks/button', body, signed(BUTTON_SECRET, body));
      expect(answer.status).toBe(422);
      expect(answer.type).toMatch(/^application\/problem\+json/);
      expect(answer.body.field).toBe('clickType');
      expect(answer.body.detail).toContain('"SINGLE", "DOUBLE", "LONG"');
    }
    expect(s.answers[0]!.body.detail).toContain('"TRIPLE" maps to no action');
    expect(await s.runs()).toEqual([]);
  });

  it('a refusal by the engine is 409 with its reason', async () => {
    const s = await open();
    const body = JSON.stringify({ clickType: 'LONG' });
    const answer = await s.post('/hooks/button', body, signed(BUTTON_SECRET, body));
    expect(answer.status).toBe(409);
    expect(answer.body.detail).toContain('dev selects no resource that can be boosted');
    expect(await s.runs()).toEqual([]);
  });

  it('unsigned, wrongly signed and stale requests are 401 and do nothing', async () => {
    const s = await open();
    const body = JSON.stringify({ clickType: 'DOUBLE' });
    const now = Math.floor(s.clock.now() / 1000);
    const tries = [
      { 'content-type': 'application/json' },
      signed('a-guessed-secret', body),
      // Signed with the other hook's secret: a secret is good for its own hook only.
      signed(SECRET, body),
      signed(BUTTON_SECRET, body, now - 301),
      signed(BUTTON_SECRET, body, now + 301),
      { ...signed(BUTTON_SECRET, body), 'x-lightsout-signature': 'sha256=00' },
    ];
    for (const headers of tries) {
      const answer = await s.post('/hooks/button', body, headers);
      expect(answer.status).toBe(401);
      expect(answer.type).toMatch(/^application\/problem\+json/);
      expect(answer.body.type).toBe('https://lightsout.dev/problems/unsigned-hook');
    }
    // The same body, signed right and 299 s old, goes through: the window is 5 minutes.
    const late = await s.post('/hooks/button', body, signed(BUTTON_SECRET, body, now - 299));
    expect(late.status).toBe(202);
    expect(await s.runs()).toHaveLength(1);
  });

  it('a body changed after signing is refused', async () => {
    const s = await open();
    const headers = signed(BUTTON_SECRET, JSON.stringify({ clickType: 'SINGLE' }));
    const answer = await s.post('/hooks/button', JSON.stringify({ clickType: 'DOUBLE' }), headers);
    expect(answer.status).toBe(401);
    expect(await s.runs()).toEqual([]);
  });

  it('the same signed request again is refused as a replay, and acts once', async () => {
    const s = await open();
    const body = JSON.stringify({ pipeline: 'nightly' });
    const headers = signed(SECRET, body);
    expect((await s.post('/hooks/ci-stop', body, headers)).status).toBe(202);
    s.clock.set(s.clock.now() + 4 * MINUTE);
    const again = await s.post('/hooks/ci-stop', body, headers);
    expect(again.status).toBe(401);
    expect(again.body.type).toBe('https://lightsout.dev/problems/replayed-hook');
    expect(await s.runs()).toHaveLength(1);
  });

  it('an unknown hook, or an SNS hook at the signed path, is 404', async () => {
    const s = await open();
    for (const path of ['/hooks/nope', '/hooks/topic']) {
      const answer = await s.post(path, '{}', signed(SECRET, '{}'));
      expect(answer.status).toBe(404);
      expect(answer.body.type).toBe('https://lightsout.dev/problems/unknown-hook');
    }
  });

  it('any content type is read as the raw body the signature covers', async () => {
    const s = await open();
    const body = 'DOUBLE';
    const answer = await s.post('/hooks/button', body, {
      ...signed(BUTTON_SECRET, body),
      'content-type': 'text/plain',
    });
    expect(answer.status).toBe(202);
    expect(answer.body.said).toBe('dev stops at 10:15 UTC');
  });

  it('no answer and no log line holds a secret', async () => {
    const s = await open();
    const body = JSON.stringify({ clickType: 'SINGLE' });
    await s.post('/hooks/button', body, signed(BUTTON_SECRET, body));
    await s.post('/hooks/button', body, signed(BUTTON_SECRET, body, 1));
    await s.post(
      '/hooks/button',
      '{"clickType":"LONG"}',
      signed(BUTTON_SECRET, '{"clickType":"LONG"}'),
    );
    await s.post('/hooks/ci-stop', body, signed(BUTTON_SECRET, body));
    expect(s.answers.map((a) => a.status)).toEqual([202, 401, 409, 401]);
    expect(s.logs.length).toBeGreaterThan(0);
    for (const secret of [SECRET, BUTTON_SECRET]) expect(s.said()).not.toContain(secret);
  });
});

describe('hooks read from the config', () => {
  const documents = {
    ci: {
      type: 'signed' as const,
      secret: '${CI_HOOK_SECRET}',
      do: { action: 'start' as const, environment: 'dev' },
    },
    button: {
      type: 'sns' as const,
      topic_arn: 'arn:aws:sns:eu-west-3:123456789012:buttons',
      field: 'clickType',
      when: { SINGLE: { action: 'start' as const, environment: 'dev' } },
    },
  };
  const readFile = () => {
    throw new Error('no files here');
  };

  it('have their secrets resolved when the service starts', () => {
    const hooks = resolveHooks(documents, { env: { CI_HOOK_SECRET: SECRET }, readFile });
    expect(hooks.get('ci')).toEqual({
      type: 'signed',
      secret: SECRET,
      do: { action: 'start', environment: 'dev' },
      field: undefined,
      when: undefined,
    });
    expect(hooks.get('button')).toMatchObject({
      type: 'sns',
      topicArn: 'arn:aws:sns:eu-west-3:123456789012:buttons',
      field: 'clickType',
    });
  });

  it('written inline are warned about by lint, naming the field, never the value', () => {
    expect(inlineHookSecrets(documents)).toEqual([]);
    const inline = { ...documents, ci: { ...documents.ci, secret: SECRET } };
    const warnings = inlineHookSecrets(inline);
    expect(warnings.map((w) => w.path)).toEqual([['switches', 'hooks', 'ci', 'secret']]);
    expect(JSON.stringify(warnings)).not.toContain(SECRET);
  });

  it('name the hook and the variable of a secret that cannot be read', () => {
    expect(() => resolveHooks(documents, { env: {}, readFile })).toThrow(
      'switches.hooks.ci.secret: the environment variable CI_HOOK_SECRET is not set',
    );
  });
});
