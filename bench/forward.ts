/**
 * `npx tsx bench/forward.ts [events]`: how fast one forwarder drains a backlog
 * into an EventBridge bus on a SQLite store, lightsout's side only (the SDK's
 * send is mocked at the client, as in the tests: no network, no AWS latency).
 * Reads, JSON, size accounting, batching by 10 and the cursor's compare-and-set
 * per request are all in the figure. Not part of `npm run bench`: printed only.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { EventBridgeDestination } from '../src/forward/eventbridge.js';
import { Forwarder } from '../src/forward/forwarder.js';
import { openStore } from '../src/store/store.js';

const total = Number(process.argv[2] ?? 20_000);
const store = await openStore(
  `sqlite:${join(mkdtempSync(join(tmpdir(), 'lightsout-fwd-')), 'b.db')}`,
);
mockClient(EventBridgeClient)
  .on(PutEventsCommand)
  .callsFake((input: { Entries?: PutEventsRequestEntry[] }) => ({
    FailedEntryCount: 0,
    Entries: (input.Entries ?? []).map((_, i) => ({ EventId: String(i) })),
  }));
const forwarder = new Forwarder({
  store,
  destination: new EventBridgeDestination({
    key: 'eventbridge:eu-west-3:bench',
    bus: 'bench',
    source: 'lightsout',
    client: new EventBridgeClient({
      region: 'eu-west-3',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    }),
  }),
  now: () => Date.now(),
  sleep: () => Promise.resolve(),
});
await forwarder.step(); // the cursor starts at the (empty) end of the log
const t0 = Date.parse('2026-03-02T08:00:00Z');
for (let i = 0; i < total; i += 1000)
  await store.appendEvents(
    Array.from({ length: Math.min(1000, total - i) }, (_, j) => ({
      at: t0 + (i + j) * 1000,
      actor: 'engine',
      kind: 'run.finished',
      environment: `env-${(i + j) % 50}`,
      runId: `run-${i + j}`,
      payload: { direction: 'stop', resources: 12, failed: 0, note: 'x'.repeat(200) },
    })),
  );
const started = performance.now();
let sent = 0;
for (;;) {
  const outcome = await forwarder.step();
  if (outcome.status !== 'sent') break;
  sent += outcome.events;
}
const seconds = (performance.now() - started) / 1000;
console.log(
  `${sent} events forwarded in ${seconds.toFixed(2)} s: ${Math.round(sent / seconds)} events/s (${Math.ceil(sent / 10)} PutEvents requests)`,
);
await store.close();
