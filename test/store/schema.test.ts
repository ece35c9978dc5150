/**
 * The schema drift check: the tables the migrations create must have exactly
 * the columns src/store/schema.ts declares. The COLUMNS object is typed so the
 * compiler rejects it when it misses or invents a column of the TypeScript
 * schema; the test rejects it when the migrated database differs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/store/schema.js';
import type { Store } from '../../src/store/store.js';
import { DATABASES } from './databases.js';

type Columns = { readonly [T in keyof Database]: { readonly [C in keyof Database[T]]-?: true } };

const COLUMNS: Columns = {
  token_buckets: {
    bucket: true,
    tokens: true,
    slow_until: true,
    slow_factor: true,
    updated_at: true,
  },
  power_state: { environment: true, resource_id: true, off_since: true, off_total: true },
  power_intervals: {
    environment: true,
    resource_id: true,
    off_from: true,
    off_to: true,
    off_before: true,
  },
  environments: {
    name: true,
    team: true,
    timezone: true,
    schedule: true,
    definition: true,
    source: true,
    updated_at: true,
  },
  resources: {
    id: true,
    environment: true,
    provider: true,
    kind: true,
    name: true,
    tags: true,
    last_state: true,
    restore: true,
    size: true,
    updated_at: true,
  },
  reservations: {
    id: true,
    environment: true,
    resource: true,
    from_at: true,
    to_at: true,
    source: true,
    actor: true,
    note: true,
    created_at: true,
  },
  holds: {
    id: true,
    environment: true,
    state: true,
    from_at: true,
    until_at: true,
    source: true,
    actor: true,
    note: true,
    created_at: true,
  },
  runs: {
    id: true,
    environment: true,
    direction: true,
    due_at: true,
    trigger: true,
    status: true,
    act_at: true,
    actor: true,
    created_at: true,
    updated_at: true,
    finished_at: true,
    lease_owner: true,
    lease_until: true,
    summary: true,
    scope: true,
    until_at: true,
    target: true,
    seq: true,
    lease_epoch: true,
    prior_state: true,
    prior_reached: true,
  },
  applied_states: {
    environment: true,
    resource: true,
    state: true,
    seq: true,
    run_id: true,
    failures: true,
    retry_at: true,
    actor: true,
    updated_at: true,
  },
  run_notices: {
    id: true,
    run_id: true,
    kind: true,
    status: true,
    attempts: true,
    next_at: true,
    environment: true,
    team: true,
    body: true,
    error: true,
    sent_at: true,
    channel: true,
  },
  engine_state: { key: true, value: true },
  run_steps: {
    id: true,
    run_id: true,
    tier: true,
    resource: true,
    action: true,
    status: true,
    attempts: true,
    error: true,
    started_at: true,
    finished_at: true,
  },
  events: {
    id: true,
    at: true,
    actor: true,
    environment: true,
    resource: true,
    kind: true,
    run_id: true,
    payload: true,
  },
  idempotency_keys: { key: true, created_at: true, response: true },
  sandbox_resources: {
    id: true,
    kind: true,
    name: true,
    tags: true,
    state: true,
    capacity: true,
    on_capacity: true,
    settles_at: true,
    type: true,
    updated_at: true,
  },
  link_keys: { id: true, secret: true, created_at: true },
  link_uses: { token_hash: true, run_id: true, action: true, actor: true, used_at: true },
  forward_cursors: {
    destination: true,
    last_event_id: true,
    updated_at: true,
    owner: true,
    lease_until: true,
  },
  tokens: {
    id: true,
    name: true,
    role: true,
    team: true,
    hash: true,
    created_at: true,
    expires_at: true,
    revoked_at: true,
  },
};

describe.each(DATABASES)('the migrated schema on $name', (database) => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  it('has exactly the tables and columns of src/store/schema.ts', async () => {
    store = await database.open();
    const schema = store.connection.schema;
    const tables = (await store.db.introspection.getTables()).filter(
      (t) => schema === undefined || t.schema === schema,
    );
    const actual = Object.fromEntries(
      tables.map((t) => [t.name, t.columns.map((c) => c.name).sort()]),
    );
    const expected = Object.fromEntries(
      Object.entries(COLUMNS).map(([table, columns]) => [table, Object.keys(columns).sort()]),
    );
    expect(actual).toEqual(expected);
  });
});
