/**
 * The inventory keeps each resource's size (migration 0011): written by both
 * discovery upserts, read back by `listResources`, completed by what was known
 * when a discovery reads only part of it, and absent on rows from before 0011.
 */
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../../src/store/db.js';
import type { Connection } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import type { Store } from '../../src/store/store.js';
import { openStore } from '../../src/store/store.js';
import { DATABASES } from './databases.js';

const resource = (name: string, size?: Record<string, unknown>) => ({
  id: `aws:asg:eu-west-3:123456789012:${name}`,
  provider: 'aws',
  kind: 'asg',
  name,
  tags: { env: 'dev' },
  ...(size === undefined ? {} : { size }),
});

describe.each(DATABASES)('resource sizes in the inventory on $name', (database) => {
  let store: Store | undefined;
  let connection: Connection | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
    await connection?.close();
    connection = undefined;
  });

  const sizes = async () =>
    Object.fromEntries((await store!.listResources()).map((r) => [r.name, r.size]));

  it('round-trips a size through both upserts, and leaves a resource without one without', async () => {
    store = await database.open();
    await store.recordDiscovered(
      'dev',
      [resource('workers', { type: 't3.large', count: 3 }), resource('bare')],
      1,
    );
    await store.upsertResources(
      'dev',
      [resource('tasks', { vcpu: 0.5, memoryGb: 1, count: 2 })],
      2,
    );
    expect(await sizes()).toEqual({
      bare: undefined,
      tasks: { vcpu: 0.5, memoryGb: 1, count: 2 },
      workers: { type: 't3.large', count: 3 },
    });
    expect((await store.listResources()).find((r) => r.name === 'bare')).not.toHaveProperty('size');
  });

  it('replaces what a discovery reads and keeps what it could not read', async () => {
    store = await database.open();
    await store.recordDiscovered('dev', [resource('workers', { type: 't3.large', count: 3 })], 1);
    // Held at zero: no instance left to say the type; the saved count is read.
    await store.recordDiscovered('dev', [resource('workers', { count: 4 })], 2);
    expect(await sizes()).toEqual({ workers: { type: 't3.large', count: 4 } });
    await store.upsertResources('dev', [resource('workers', { type: 'm5.large' })], 3);
    expect(await sizes()).toEqual({ workers: { type: 'm5.large', count: 4 } });
    // A discovery that reads no size at all keeps the one known.
    await store.upsertResources('dev', [resource('workers')], 4);
    await store.recordDiscovered('dev', [resource('workers')], 5);
    expect(await sizes()).toEqual({ workers: { type: 'm5.large', count: 4 } });
  });

  it('migrates a store from before sizes: its resources have none', async () => {
    const url = database.url();
    connection = await connect(url);
    await migrate(connection, '0010_action_links');
    await sql`insert into resources (id, environment, provider, kind, name, tags, last_state, restore, updated_at)
      values ('sandbox:ec2:web', 'dev', 'sandbox', 'ec2', 'web', '{}', 'on', null, 0)`.execute(
      connection.db,
    );
    await connection.close();
    connection = undefined;
    store = await openStore(url);
    const [web] = await store.listResources();
    expect(web).toMatchObject({ id: 'sandbox:ec2:web', lastState: 'on' });
    expect(web).not.toHaveProperty('size');
  });
});
