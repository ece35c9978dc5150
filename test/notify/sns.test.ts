/**
 * The SNS channel at the SDK boundary (aws-sdk-client-mock): the Publish request's
 * shape, the subject made to fit the API's limits, and error mapping.
 */
import {
  AuthorizationErrorException,
  InternalErrorException,
  NotFoundException,
  PublishCommand,
  SNSClient,
  ThrottledException,
} from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Notice } from '../../src/engine/ports.js';
import { DeliveryError } from '../../src/notify/channel.js';
import { SNS_SUBJECT_MAX, SnsChannel, snsSubject } from '../../src/notify/sns.js';

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:lightsout-notices';
const sns = mockClient(SNSClient);

const notice: Notice = {
  kind: 'stop-warning',
  environment: 'staging',
  team: 'payments',
  runId: 'run-42',
  text: 'staging stops in 15 minutes.',
  at: Date.parse('2026-11-30T22:45:00Z'),
  details: {
    actAt: '23:00 UTC',
    trigger: 'schedule weeknights',
    actions: [{ label: 'Keep it on', url: 'https://lightsout.example/keep?run=run-42' }],
  },
};

function channel(): SnsChannel {
  return new SnsChannel({
    name: 'ops-topic',
    topicArn: TOPIC,
    client: new SNSClient({ region: 'eu-west-1' }),
  });
}

async function failure(promise: Promise<unknown>): Promise<DeliveryError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DeliveryError);
  return error as DeliveryError;
}

const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });

beforeEach(() => sns.reset());

describe('SnsChannel', () => {
  it('publishes the title as subject, the text, facts and links as message, kind and environment as attributes', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const c = channel();
    expect(c.kind).toBe('sns');
    expect(c.name).toBe('ops-topic');
    await c.send(notice);
    const calls = sns.commandCalls(PublishCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input.TopicArn).toBe(TOPIC);
    expect(input.Subject).toBe('staging is about to stop');
    expect(input.Message).toBe(
      [
        'staging stops in 15 minutes.',
        '',
        'Environment: staging',
        'Team: payments',
        'Stops at: 23:00 UTC',
        'Why: schedule weeknights',
        'Run: run-42',
        '',
        'Keep it on: https://lightsout.example/keep?run=run-42',
      ].join('\n'),
    );
    expect(input.MessageAttributes).toEqual({
      kind: { DataType: 'String', StringValue: 'stop-warning' },
      environment: { DataType: 'String', StringValue: 'staging' },
    });
  });

  it('cuts a long subject under 100 characters and keeps it ASCII on one line', async () => {
    sns.on(PublishCommand).resolves({});
    const environment = `prod-${'x'.repeat(150)}`;
    await channel().send({ ...notice, kind: 'run-summary', environment });
    const subject = sns.commandCalls(PublishCommand)[0]!.args[0].input.Subject!;
    expect(subject.length).toBeLessThanOrEqual(SNS_SUBJECT_MAX);
    expect(subject.length).toBeLessThan(100);
    expect(subject.startsWith('prod-xxx')).toBe(true);
    expect(subject.endsWith('...')).toBe(true);
    // The message keeps the whole name.
    expect(sns.commandCalls(PublishCommand)[0]!.args[0].input.Message).toContain(environment);

    expect(snsSubject('Café\nprod ✓ is about to stop')).toBe('Cafe prod ? is about to stop');
    expect(snsSubject('x'.repeat(99))).toBe('x'.repeat(99));
    expect(snsSubject('x'.repeat(100))).toHaveLength(99);
    expect(snsSubject(' \n ')).toBe('lightsout notice');
  });

  it('maps an authorization error to a permanent error that names the topic and the fix', async () => {
    sns.on(PublishCommand).rejects(
      new AuthorizationErrorException({
        message: 'User: arn:aws:sts::1:assumed-role/x is not authorized',
        ...meta(403),
      }),
    );
    const e = await failure(channel().send(notice));
    expect(e.permanent).toBe(true);
    expect(e.message).toContain(TOPIC);
    expect(e.message).toContain('sns:Publish');
  });

  it('maps a missing topic to a permanent error', async () => {
    sns
      .on(PublishCommand)
      .rejects(new NotFoundException({ message: 'Topic does not exist', ...meta(404) }));
    const e = await failure(channel().send(notice));
    expect(e.permanent).toBe(true);
    expect(e.message).toMatch(/does not exist/);
  });

  it('maps throttling and server errors to errors worth retrying', async () => {
    sns
      .on(PublishCommand)
      .rejects(new ThrottledException({ message: 'Rate exceeded', ...meta(400) }));
    const throttled = await failure(channel().send(notice));
    expect(throttled.permanent).toBe(false);
    expect(throttled.message).toMatch(/throttled/);

    sns.reset();
    sns
      .on(PublishCommand)
      .rejects(new InternalErrorException({ message: 'internal', ...meta(500) }));
    const internal = await failure(channel().send(notice));
    expect(internal.permanent).toBe(false);

    sns.reset();
    sns.on(PublishCommand).rejects(
      Object.assign(new Error('Service Unavailable'), {
        name: 'ServiceUnavailable',
        $fault: 'server',
        ...meta(503),
      }),
    );
    expect((await failure(channel().send(notice))).permanent).toBe(false);
  });

  it('treats a network failure or timeout as worth retrying, and another client error as permanent', async () => {
    sns
      .on(PublishCommand)
      .rejects(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    expect((await failure(channel().send(notice))).permanent).toBe(false);

    sns.reset();
    sns.on(PublishCommand).rejects(
      Object.assign(new Error('The operation was aborted due to timeout'), {
        name: 'TimeoutError',
      }),
    );
    const timeout = await failure(channel().send(notice));
    expect(timeout.permanent).toBe(false);
    expect(timeout.message).toMatch(/did not answer/);

    sns.reset();
    sns.on(PublishCommand).rejects(
      Object.assign(new Error('Invalid parameter: Subject'), {
        name: 'InvalidParameterException',
        $fault: 'client',
        ...meta(400),
      }),
    );
    expect((await failure(channel().send(notice))).permanent).toBe(true);
  });

  it('passes a timeout signal with every request', async () => {
    const client = new SNSClient({ region: 'eu-west-1' });
    const seen: unknown[] = [];
    const send = client.send.bind(client) as (...args: unknown[]) => Promise<unknown>;
    client.send = ((...args: unknown[]) => {
      seen.push(args[1]);
      return send(...args);
    }) as typeof client.send;
    sns.on(PublishCommand).resolves({});
    await new SnsChannel({ name: 'ops-topic', topicArn: TOPIC, client }).send(notice);
    expect((seen[0] as { abortSignal?: unknown } | undefined)?.abortSignal).toBeInstanceOf(
      AbortSignal,
    );
  });
});
