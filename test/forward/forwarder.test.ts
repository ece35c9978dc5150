/**
 * Live forwarding at the SDK boundary (aws-sdk-client-mock), on a real store
 * (SQLite, and PostgreSQL when LIGHTSOUT_TEST_POSTGRES is set): the requests'
 * shapes, batching by count and size, refused entries sent again alone,
 * throttling, permanent refusals, the kinds filter, and two forwarders (two
 * replicas) on one store never moving the cursor past an event nobody sent.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { PutEventsRequestEntry, PutEventsResultEntry } from '@aws-sdk/client-eventbridge';
import { PublishBatchCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Destination, Outcome } from '../../src/forward/destination.js';
import {
  EventBridgeDestination,
  entrySize,
  PUT_EVENTS_MAX_BYTES,
} from '../../src/forward/eventbridge.js';
import {
  ATTEMPTS,
  Forwarder,
  GAP_WAIT_MS,
  HOLE_FENCE_MS,
  LEASE_MS,
} from '../../src/forward/forwarder.js';
import { SnsDestination } from '../../src/forward/sns.js';
import { eventJson } from '../../src/store/queries/events.js';
import type { Event, EventInput } from '../../src/store/queries/events.js';
import type { Store } from '../../src/store/store.js';
import { at } from '../helpers.js';
import { DATABASES } from '../store/databases.js';

const T0 = at('2026-03-02T08:00:00Z');
const BUS = 'arn:aws:events:eu-west-3:123456789012:event-bus/lightsout';
const TOPIC = 'arn:aws:sns:eu-west-3:123456789012:lightsout-events';
const CREDENTIALS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'not-a-secret' };

const eventbridge = mockClient(EventBridgeClient);
const sns = mockClient(SNSClient);

function busDestination(): EventBridgeDestination {
  return new EventBridgeDestination({
    key: 'eventbridge:eu-west-3:lightsout',
    bus: BUS,
    source: 'lightsout',
    client: new EventBridgeClient({ region: 'eu-west-3', credentials: CREDENTIALS }),
  });
}

function topicDestination(): SnsDestination {
  return new SnsDestination({
    key: `sns:${TOPIC}`,
    topicArn: TOPIC,
    client: new SNSClient({ region: 'eu-west-3', credentials: CREDENTIALS }),
  });
}

/** Every event in the log, as the API shows it. */
async function log(store: Store): Promise<Event[]> {
  return (await store.queryEvents({}, { limit: 1000 })).events as Event[];
}

const happened = (
  n: number,
  kind = 'run.started',
  payload: Record<string, unknown> = {},
): EventInput[] =>
  Array.from({ length: n }, (_, i) => ({
    at: T0 + i * 1000,
    actor: 'engine',
    kind,
    environment: 'dev',
    payload: { n: i, ...payload },
  }));

/** Accepted PutEvents entries: an EventId each. */
const accepted = (entries: readonly PutEventsRequestEntry[] | undefined): PutEventsResultEntry[] =>
  (entries ?? []).map((_, i) => ({ EventId: `id-${i}` }));

const sentEntries = () =>
  eventbridge.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries ?? []);
const sentIds = () =>
  sentEntries().map((entries) => entries.map((e) => (JSON.parse(e.Detail!) as { id: number }).id));

describe.each(DATABASES)('forwarding events on $name', (database) => {
  let store: Store;
  let now = T0;
  const sleeps: number[] = [];
  const forwarder = (destination: Destination, kinds?: string[], owner?: string) =>
    new Forwarder({
      store,
      destination,
      kinds,
      owner,
      now: () => now,
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
      random: () => 0.5,
    });

  beforeEach(async () => {
    store = await database.open();
    eventbridge.reset();
    sns.reset();
    eventbridge.on(PutEventsCommand).callsFake((input: { Entries?: PutEventsRequestEntry[] }) => ({
      FailedEntryCount: 0,
      Entries: accepted(input.Entries),
    }));
    sleeps.length = 0;
    now = T0;
  });
  afterEach(async () => {
    await store.close();
  });

  it('starts a new destination at the last event recorded, then sends each new one as the API shows it', async () => {
    await store.appendEvents(happened(2, 'history.before'));
    const f = forwarder(busDestination());
    expect(await f.step()).toEqual({ status: 'idle' });
    await store.appendEvents([
      {
        at: T0,
        actor: 'alice',
        kind: 'run.started',
        environment: 'dev',
        runId: 'r1',
        payload: { to: 'off' },
      },
      {
        at: T0 + 1,
        actor: 'engine',
        kind: 'state.changed',
        resource: 'sandbox:ec2:web-1',
        payload: {},
      },
    ]);
    expect(await f.step()).toEqual({ status: 'sent', events: 2, more: false });
    const events = (await log(store)).slice(2);
    expect(sentEntries()).toEqual([
      events.map((e) => ({
        EventBusName: BUS,
        Source: 'lightsout',
        DetailType: e.kind,
        Time: new Date(e.at),
        Detail: JSON.stringify(eventJson(e)),
      })),
    ]);
    expect(JSON.parse(sentEntries()[0]![0]!.Detail!)).toMatchObject({
      schema: 2,
      kind: 'run.started',
      actor: 'alice',
      environment: 'dev',
      runId: 'r1',
      payload: { to: 'off' },
      at: '2026-03-02T08:00:00.000Z',
    });
    expect(await store.forwardCursor(f.key, now)).toBe(events.at(-1)!.id);
    expect(await f.step()).toEqual({ status: 'idle' });
    expect(sentEntries()).toHaveLength(1);
  });

  it('sends at most 10 entries a request, in log order', async () => {
    const f = forwarder(busDestination());
    await f.step();
    await store.appendEvents(happened(25));
    await f.step();
    const ids = (await log(store)).map((e) => e.id);
    expect(sentIds()).toEqual([ids.slice(0, 10), ids.slice(10, 20), ids.slice(20)]);
    expect(await store.forwardCursor(f.key, now)).toBe(ids.at(-1));
  });

  it('keeps each request under 256 KB, and sends an event too large alone without its payload', async () => {
    const f = forwarder(busDestination());
    await f.step();
    await store.appendEvents([
      ...happened(5, 'run.reported', { text: 'x'.repeat(100_000) }),
      ...happened(1, 'run.reported', { text: 'y'.repeat(300_000) }),
    ]);
    await f.step();
    const requests = sentEntries();
    for (const entries of requests)
      expect(entries.reduce((sum, e) => sum + entrySize(e), 0)).toBeLessThanOrEqual(
        PUT_EVENTS_MAX_BYTES,
      );
    expect(requests.map((r) => r.length)).toEqual([2, 2, 2]);
    const last = JSON.parse(requests[2]![1]!.Detail!) as Record<string, unknown>;
    expect(last).toMatchObject({ kind: 'run.reported', payload: { truncated: true } });
    expect((await log(store)).at(-1)!.id).toBe(last['id']);
  });

  it('sends refused entries again alone, and moves the cursor once all are accepted', async () => {
    const f = forwarder(busDestination());
    await f.step();
    await store.appendEvents(happened(3));
    eventbridge
      .on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 1,
        Entries: [
          { EventId: 'a' },
          { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' },
          { EventId: 'c' },
        ],
      })
      .callsFake((input: { Entries?: PutEventsRequestEntry[] }) => ({
        FailedEntryCount: 0,
        Entries: accepted(input.Entries),
      }));
    expect(await f.step()).toMatchObject({ status: 'sent', events: 3 });
    const ids = (await log(store)).map((e) => e.id);
    expect(sentIds()).toEqual([ids, [ids[1]]]);
    expect(sleeps).toHaveLength(1);
    expect(await store.forwardCursor(f.key, now)).toBe(ids[2]);
  });

  it('waits out throttling of the whole request, then gives up the step without moving the cursor', async () => {
    const f = forwarder(busDestination());
    await f.step();
    await store.appendEvents(happened(2));
    const throttled = Object.assign(new Error('Rate exceeded'), {
      name: 'ThrottlingException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    eventbridge.on(PutEventsCommand).rejects(throttled);
    const before = await store.forwardCursor(f.key, now);
    expect(await f.step()).toMatchObject({
      status: 'failed',
      retry: 'throttled',
      code: 'ThrottlingException',
    });
    expect(sentEntries()).toHaveLength(ATTEMPTS);
    // 250 ms doubling, with equal jitter (random 0.5: three quarters of each step)
    expect(sleeps).toEqual([188, 375, 750]);
    expect(await store.forwardCursor(f.key, now)).toBe(before);

    eventbridge.on(PutEventsCommand).callsFake((input: { Entries?: PutEventsRequestEntry[] }) => ({
      FailedEntryCount: 0,
      Entries: accepted(input.Entries),
    }));
    expect(await f.step()).toMatchObject({ status: 'sent', events: 2 });
  });

  it('stops at a permanent refusal (access denied, no such bus), and sends everything once it is lifted', async () => {
    const f = forwarder(busDestination());
    await f.step();
    await store.appendEvents(happened(12));
    const denied = Object.assign(new Error('not authorized to perform events:PutEvents'), {
      name: 'AccessDeniedException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    eventbridge.on(PutEventsCommand).rejects(denied);
    const before = await store.forwardCursor(f.key, now);
    const refused = await f.step();
    expect(refused).toMatchObject({
      status: 'failed',
      retry: 'permanent',
      code: 'AccessDeniedException',
    });
    expect(refused.status === 'failed' && refused.message).toMatch(/check the policy/);
    expect(sentEntries()).toHaveLength(1); // not hammered: the loop waits a minute
    expect(await store.forwardCursor(f.key, now)).toBe(before);

    eventbridge.reset();
    eventbridge.on(PutEventsCommand).callsFake((input: { Entries?: PutEventsRequestEntry[] }) => ({
      FailedEntryCount: 0,
      Entries: accepted(input.Entries),
    }));
    await f.step();
    expect(sentIds().flat()).toEqual((await log(store)).map((e) => e.id));
  });

  it('holds the cursor before an entry refused for good, without sending its accepted neighbours again', async () => {
    const f = forwarder(busDestination());
    await f.step();
    await store.appendEvents(happened(3));
    const ids = (await log(store)).map((e) => e.id);
    eventbridge
      .on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 1,
        Entries: [
          { EventId: 'a' },
          { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'no' },
          { EventId: 'c' },
        ],
      })
      .callsFake((input: { Entries?: PutEventsRequestEntry[] }) => ({
        FailedEntryCount: 0,
        Entries: accepted(input.Entries),
      }));
    expect(await f.step()).toMatchObject({ status: 'failed', retry: 'permanent' });
    expect(await store.forwardCursor(f.key, now)).toBe(ids[0]! - 1);
    expect(await f.step()).toMatchObject({ status: 'sent', events: 1 });
    expect(sentIds()).toEqual([ids, [ids[1]]]);
    expect(await store.forwardCursor(f.key, now)).toBe(ids[2]);
  });

  it('after a request accepted whole, sends only what the next one had refused', async () => {
    const f = forwarder(busDestination());
    await f.step();
    await store.appendEvents(happened(12));
    const ids = (await log(store)).map((e) => e.id);
    eventbridge
      .on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 0, Entries: accepted(Array(10).fill({})) })
      .resolvesOnce({
        FailedEntryCount: 1,
        Entries: [{ EventId: 'k' }, { ErrorCode: 'AccessDeniedException', ErrorMessage: 'no' }],
      })
      .callsFake((input: { Entries?: PutEventsRequestEntry[] }) => ({
        FailedEntryCount: 0,
        Entries: accepted(input.Entries),
      }));
    expect(await f.step()).toMatchObject({ status: 'failed', retry: 'permanent' });
    expect(await store.forwardCursor(f.key, now)).toBe(ids[9]);
    await f.step();
    expect(sentIds()).toEqual([ids.slice(0, 10), ids.slice(10), [ids[11]]]);
    expect(await store.forwardCursor(f.key, now)).toBe(ids[11]);
  });

  it('sends only the kinds asked for, and moves past the others', async () => {
    const f = forwarder(busDestination(), ['run.*', 'hold.created']);
    await f.step();
    await store.appendEvents([
      ...happened(1, 'run.started'),
      ...happened(1, 'step.finished'),
      ...happened(1, 'hold.created'),
      ...happened(1, 'run.finished'),
      ...happened(1, 'reservation.created'),
    ]);
    await f.step();
    expect(
      sentEntries()
        .flat()
        .map((e) => e.DetailType),
    ).toEqual(['run.started', 'hold.created', 'run.finished']);
    expect(await store.forwardCursor(f.key, now)).toBe((await log(store)).at(-1)!.id);
  });

  it('publishes to SNS in batches of 10 with kind and environment attributes, failed messages again alone', async () => {
    const f = forwarder(topicDestination());
    await f.step();
    await store.appendEvents([
      ...happened(11),
      { at: T0, actor: 'engine', kind: 'engine.started', payload: {} },
    ]);
    const ids = (await log(store)).map((e) => e.id);
    sns
      .on(PublishBatchCommand)
      .resolvesOnce({
        Successful: ids
          .slice(0, 10)
          .filter((_, i) => i !== 4)
          .map((id) => ({ Id: `e${id}`, MessageId: 'm' })),
        Failed: [
          { Id: `e${ids[4]}`, Code: 'InternalError', SenderFault: false, Message: 'try again' },
        ],
      })
      .callsFake((input: { PublishBatchRequestEntries?: { Id?: string }[] }) => ({
        Successful: (input.PublishBatchRequestEntries ?? []).map((e) => ({
          Id: e.Id,
          MessageId: 'm',
        })),
      }));
    expect(await f.step()).toMatchObject({ status: 'sent', events: 12 });
    const calls = sns.commandCalls(PublishBatchCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.PublishBatchRequestEntries!.map((e) => e.Id))).toEqual([
      ids.slice(0, 10).map((id) => `e${id}`),
      [`e${ids[4]}`],
      ids.slice(10).map((id) => `e${id}`),
    ]);
    expect(calls.every((c) => c.TopicArn === TOPIC)).toBe(true);
    const first = calls[0]!.PublishBatchRequestEntries![0]!;
    const event = (await log(store))[0]!;
    expect(first).toEqual({
      Id: `e${event.id}`,
      Message: JSON.stringify(eventJson(event)),
      MessageAttributes: {
        kind: { DataType: 'String', StringValue: 'run.started' },
        environment: { DataType: 'String', StringValue: 'dev' },
      },
    });
    // No environment, no empty attribute (SNS refuses one).
    expect(calls[2]!.PublishBatchRequestEntries!.at(-1)!.MessageAttributes).toEqual({
      kind: { DataType: 'String', StringValue: 'engine.started' },
    });
    expect(await store.forwardCursor(f.key, now)).toBe(ids.at(-1));
  });

  it('stops at an SNS topic that does not exist', async () => {
    const f = forwarder(topicDestination());
    await f.step();
    await store.appendEvents(happened(2));
    sns.on(PublishBatchCommand).rejects(
      Object.assign(new Error('Topic does not exist'), {
        name: 'NotFoundException',
        $fault: 'client',
        $metadata: { httpStatusCode: 404 },
      }),
    );
    const refused = await f.step();
    expect(refused).toMatchObject({
      status: 'failed',
      retry: 'permanent',
      code: 'NotFoundException',
    });
    expect(refused.status === 'failed' && refused.message).toMatch(/does it exist/);
  });

  it('two replicas never move the cursor past an event neither had accepted, and together send every event', async () => {
    // A destination that refuses some entries, from a seed: both replicas share what it received.
    const received = new Set<number>();
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const flaky = (key: string): Destination => ({
      key,
      batches: (events) => busDestination().batches(events),
      send: (batch) =>
        Promise.resolve(
          batch.map((e): Outcome => {
            if (random() < 0.6)
              return { ok: false, retry: 'transient', code: 'InternalFailure', message: 'x' };
            received.add(e.id);
            return { ok: true };
          }),
        ),
    });
    const a = forwarder(flaky('eventbridge:eu-west-3:shared'));
    const b = forwarder(flaky('eventbridge:eu-west-3:shared'));
    await Promise.all([a.step(), b.step()]);
    for (let round = 0; round < 12; round += 1) {
      await store.appendEvents(happened(1 + (round % 4) * 4));
      await Promise.all([a.step(), b.step()]);
      const cursor = await store.forwardCursor(a.key, now);
      const behind = (await log(store)).filter((e) => e.id <= cursor && !received.has(e.id));
      expect(behind).toEqual([]);
    }
    for (let round = 0; round < 50; round += 1) await Promise.all([a.step(), b.step()]);
    expect((await log(store)).filter((e) => !received.has(e.id))).toEqual([]);
    expect(await store.forwardCursor(a.key, now)).toBe((await log(store)).at(-1)!.id);
  });

  it('one replica at a time forwards to a destination; another takes over when its lease ends or it stops', async () => {
    const a = forwarder(busDestination(), undefined, 'replica-a');
    const b = forwarder(busDestination(), undefined, 'replica-b');
    expect(await a.step()).toEqual({ status: 'idle' });
    await store.appendEvents(happened(2));
    expect(await b.step()).toEqual({ status: 'idle' }); // a holds the lease
    expect(sentEntries()).toHaveLength(0);
    expect(await a.step()).toMatchObject({ status: 'sent', events: 2 });
    await store.appendEvents(happened(1));
    now += LEASE_MS; // a said nothing for a lease: it is gone
    expect(await b.step()).toMatchObject({ status: 'sent', events: 1 });
    expect(await a.step()).toEqual({ status: 'idle' });
    await b.release();
    await store.appendEvents(happened(1));
    expect(await a.step()).toMatchObject({ status: 'sent', events: 1 });
    expect(sentEntries()).toHaveLength(3);
  });

  it.runIf(database.name === 'postgres')(
    'waits at an event still being written (a lower id not yet committed), then sends it',
    async () => {
      const f = forwarder(busDestination());
      await f.step();
      let commit!: () => void;
      const committed = new Promise<void>((resolve) => (commit = resolve));
      let inserted!: () => void;
      const insertedYet = new Promise<void>((resolve) => (inserted = resolve));
      const writing = store.atomically(async (tx) => {
        await tx.appendEvents(happened(1, 'slow.event'));
        inserted();
        await committed;
      });
      await insertedYet;
      await store.appendEvents(happened(2, 'quick.event'));
      expect(await f.step()).toEqual({ status: 'idle' });
      commit();
      await writing;
      await f.step();
      expect(
        sentEntries()
          .flat()
          .map((e) => e.DetailType),
      ).toEqual(['slow.event', 'quick.event', 'quick.event']);
      expect(await store.forwardCursor(f.key, now)).toBe((await log(store)).at(-1)!.id);
    },
  );

  it.runIf(database.name === 'postgres')(
    'passes a hole left by a rolled-back write once every transaction that could fill it has ended',
    async () => {
      const f = forwarder(busDestination());
      await f.step();
      await store
        .atomically(async (tx) => {
          await tx.appendEvents(happened(1, 'rolled.back'));
          throw new Error('roll back');
        })
        .catch(() => undefined);
      await store.appendEvents(happened(1, 'after.hole'));
      expect(await f.step()).toEqual({ status: 'idle' });
      now += HOLE_FENCE_MS - 1;
      expect(await f.step()).toEqual({ status: 'idle' });
      now += 1;
      expect(await f.step()).toMatchObject({ status: 'sent', events: 1 });
      expect(
        sentEntries()
          .flat()
          .map((e) => e.DetailType),
      ).toEqual(['after.hole']);
    },
  );

  it.runIf(database.name === 'postgres')(
    'keeps waiting at a hole while the transaction that may fill it is open, up to the backstop',
    async () => {
      const f = forwarder(busDestination());
      await f.step();
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let opened!: () => void;
      const open = new Promise<void>((resolve) => (opened = resolve));
      // A transaction that took an id and is still open (it rolls back in the end).
      const writing = store
        .atomically(async (tx) => {
          await tx.appendEvents(happened(1, 'never.committed'));
          opened();
          await released;
          throw new Error('roll back');
        })
        .catch(() => undefined);
      await open;
      await store.appendEvents(happened(1, 'after.hole'));
      for (const wait of [0, HOLE_FENCE_MS, 10_000, 30_000]) {
        now += wait;
        expect(await f.step()).toEqual({ status: 'idle' });
      }
      now = T0 + GAP_WAIT_MS;
      expect(await f.step()).toMatchObject({ status: 'sent', events: 1 });
      release();
      await writing;
    },
  );
});
