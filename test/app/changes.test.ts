/**
 * A change of plan made by another process (a CLI command beside a server, another
 * replica) wakes the reconciler at once: PostgreSQL NOTIFY, SQLite data_version.
 */
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { watchChanges } from '../../src/app/changes.js';
import { openStore } from '../../src/store/store.js';
import type { Store } from '../../src/store/store.js';
import { DATABASES } from '../store/databases.js';

describe.each(DATABASES)('changes made by another process, on $name', (database) => {
  const opened: Store[] = [];
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
    for (const store of opened.splice(0)) await store.close();
  });

  it('wake the watcher when another connection commits a change', async () => {
    const url = database.url();
    const server = await openStore(url);
    const cli = await openStore(url);
    opened.push(server, cli);
    let woken = 0;
    stops.push(await watchChanges(server, pino({ level: 'silent' }), () => (woken += 1)));
    await new Promise((r) => setTimeout(r, 700));
    const before = woken;
    await cli.atomically(async (tx) => {
      await tx.addHold(
        { environment: 'dev', state: 'on', until: Date.now() + 3_600_000, actor: 'cli' },
        Date.now(),
      );
      await tx.announceChange();
    });
    const deadline = Date.now() + 5_000;
    while (woken === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(woken).toBeGreaterThan(before);
  });
});
