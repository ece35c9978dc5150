/**
 * Virtual time that moves only when everything else has run: a sleep waits for its
 * turn, the earliest sleeper waking first, once the work in flight (a store
 * transaction, a call to the AWS double) has settled. VirtualClock jumps forward
 * at the first sleep, even while another caller is between taking its tokens and
 * sending its call, which no real clock does.
 */
import type { Clock } from '../../src/engine/ports.js';

export class SteppingClock implements Clock {
  private readonly sleepers: { at: number; wake: () => void }[] = [];
  private stepping = false;

  constructor(private t: number) {}

  now(): number {
    return this.t;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((wake) => {
      this.sleepers.push({ at: this.t + Math.max(0, ms), wake });
      this.step();
    });
  }

  /** After a real millisecond in which nothing else ran, the earliest sleeper wakes. */
  private step(): void {
    if (this.stepping) return;
    this.stepping = true;
    setTimeout(() => {
      this.stepping = false;
      this.sleepers.sort((a, b) => a.at - b.at);
      const next = this.sleepers.shift();
      if (next === undefined) return;
      this.t = Math.max(this.t, next.at);
      next.wake();
      if (this.sleepers.length > 0) this.step();
    }, 1);
  }
}
