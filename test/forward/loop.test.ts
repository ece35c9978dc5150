/**
 * The forwarding loop on a fake clock (vitest's fake timers): it looks again when
 * woken, and at each tick; a destination that refuses for good waits a minute
 * whatever wakes it, is logged once a minute at most, and says when it recovers;
 * stop ends every loop.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Forwarder, StepOutcome } from '../../src/forward/forwarder.js';
import { PERMANENT_RETRY_MS, startForwarding } from '../../src/forward/loop.js';

/** A forwarder whose steps answer from a script (idle when it runs out), counted. */
function scripted(...outcomes: StepOutcome[]) {
  const fake = {
    key: 'eventbridge:eu-west-3:test',
    steps: 0,
    release: () => Promise.resolve(),
    step: () => {
      fake.steps += 1;
      return Promise.resolve(outcomes.shift() ?? ({ status: 'idle' } as const));
    },
  };
  return fake;
}

const refused = {
  status: 'failed',
  retry: 'permanent',
  code: 'AccessDeniedException',
  message: 'EventBridge bus lightsout refused the request: AccessDeniedException',
} as const satisfies StepOutcome;

describe('the forwarding loop', () => {
  const log = { warn: vi.fn(), info: vi.fn() };
  beforeEach(() => {
    vi.useFakeTimers();
    log.warn.mockReset();
    log.info.mockReset();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('looks at each tick and at once when woken; stop ends it', async () => {
    const f = scripted();
    const forwarding = startForwarding([f as unknown as Forwarder], log, 5_000);
    await vi.advanceTimersByTimeAsync(0);
    expect(f.steps).toBe(1);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(f.steps).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(f.steps).toBe(2);
    forwarding.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(f.steps).toBe(3);
    await forwarding.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(f.steps).toBe(3);
  });

  it('goes straight on while there is more to send', async () => {
    const f = scripted(
      { status: 'sent', events: 100, more: true },
      { status: 'sent', events: 100, more: true },
      { status: 'sent', events: 3, more: false },
    );
    const forwarding = startForwarding([f as unknown as Forwarder], log, 5_000);
    await vi.advanceTimersByTimeAsync(0);
    expect(f.steps).toBe(3);
    await forwarding.stop();
  });

  it('waits a minute after a permanent refusal, logs it once a minute at most, and says when it recovers', async () => {
    const f = scripted(refused, refused, refused, { status: 'sent', events: 2, more: false });
    const forwarding = startForwarding([f as unknown as Forwarder], log, 5_000);
    await vi.advanceTimersByTimeAsync(0);
    expect(f.steps).toBe(1);
    expect(log.warn).toHaveBeenCalledTimes(1);
    expect(log.warn.mock.calls[0]).toEqual([
      { destination: f.key, error: refused.message, repeats: 0 },
      'forwarding events failed; the events wait and are sent again',
    ]);
    forwarding.wake(); // a change does not hurry a refused destination
    await vi.advanceTimersByTimeAsync(PERMANENT_RETRY_MS - 1);
    expect(f.steps).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(f.steps).toBe(2);
    expect(log.warn).toHaveBeenCalledTimes(2); // a minute after the first line
    await vi.advanceTimersByTimeAsync(PERMANENT_RETRY_MS);
    expect(f.steps).toBe(3);
    await vi.advanceTimersByTimeAsync(PERMANENT_RETRY_MS);
    expect(f.steps).toBe(4);
    expect(log.info).toHaveBeenCalledWith(
      { destination: f.key, seconds: 180 },
      'forwarding events again',
    );
    await forwarding.stop();
  });

  it('one destination refusing does not hold up another', async () => {
    const stuck = scripted(refused);
    const fine = scripted();
    const forwarding = startForwarding(
      [stuck as unknown as Forwarder, fine as unknown as Forwarder],
      log,
      5_000,
    );
    await vi.advanceTimersByTimeAsync(10_000);
    expect(stuck.steps).toBe(1);
    expect(fine.steps).toBe(3);
    await forwarding.stop();
  });
});
