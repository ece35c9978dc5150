/**
 * A sandbox resource's size: the config's `sandbox.resources[].type`, and for
 * groups and services the capacity they run when on, whatever their state now. A
 * type changed in the config follows on the next start; the state stays.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { formatDiagnostic, parseConfig } from '../../src/config/load.js';
import { VirtualClock } from '../../src/engine/clock.js';
import { SandboxProvider } from '../../src/providers/sandbox/sandbox.js';
import type { Store } from '../../src/store/store.js';
import { DATABASES } from '../store/databases.js';

const CONFIG = `
environments:
  dev:
    select: { provider: sandbox, tags: { env: dev } }
sandbox:
  resources:
    - { kind: ec2, name: web, type: t3.medium, tags: { env: dev } }
    - { kind: asg, name: workers, type: t3.large, capacity: 3, state: off, tags: { env: dev } }
    - { kind: rds, name: orders, type: db.m5.large, tags: { env: dev } }
    - { kind: ec2, name: box, tags: { env: dev } }
`;

function seedsOf(text: string) {
  const result = parseConfig(text, 'lightsout.yaml');
  if (!result.ok) throw new Error(result.diagnostics.map(formatDiagnostic).join('\n'));
  return result.config.document.sandbox?.resources ?? [];
}

describe.each(DATABASES)('sandbox sizes on $name', (database) => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  it('come from the config type and the capacity on, and follow a changed type', async () => {
    store = await database.open();
    const clock = new VirtualClock(0);
    await new SandboxProvider(store.db, clock).seed(seedsOf(CONFIG));
    const sizes = async (provider: SandboxProvider) =>
      Object.fromEntries(
        (await provider.discover({ provider: 'sandbox', tags: { env: 'dev' } })).map((r) => [
          r.name,
          r.size,
        ]),
      );
    expect(await sizes(new SandboxProvider(store.db, clock))).toEqual({
      web: { type: 't3.medium' },
      // Off now, 3 instances when on: what a stop saves.
      workers: { type: 't3.large', count: 3 },
      orders: { type: 'db.m5.large' },
      box: undefined,
    });
    const restarted = new SandboxProvider(store.db, clock);
    await restarted.seed(seedsOf(CONFIG.replace('type: t3.large', 'type: m5.large')));
    expect((await sizes(restarted)).workers).toEqual({ type: 'm5.large', count: 3 });
    const states = await restarted.observe(
      await restarted.discover({ provider: 'sandbox', tags: { env: 'dev' } }),
    );
    expect(states.get('sandbox:asg:workers')).toBe('off');
  });

  it('refuses an empty type with the fix', () => {
    const result = parseConfig(CONFIG.replace('type: t3.medium', 'type: ""'), 'lightsout.yaml');
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.diagnostics.map(formatDiagnostic).join('\n')).toContain(
        'type is an instance type such as t3.medium',
      );
  });
});
