/**
 * The last look before an action is sent. A provider that waits for the account's
 * tokens before it sends (the AWS limiter, the sandbox's start bucket) asks
 * `beforeSending()` after the wait: an early start (ready-by.ts) may wait minutes
 * there, and a hold-off or a deleted reservation meanwhile must stop it before
 * the call, not after. The executor opens the gate around each batch it asks for;
 * outside one, `beforeSending` does nothing.
 *
 * Carried by AsyncLocalStorage so that no provider signature changes for it: the
 * question belongs to the run, the wait to the provider.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { TransientError } from './ports.js';

export class ActGate {
  /** Why the run is no longer wanted, once a look found it so: nothing more is sent. */
  closed: string | undefined;

  constructor(private readonly stillWanted: () => Promise<string | undefined>) {}

  async check(): Promise<void> {
    this.closed ??= await this.stillWanted();
    // Transient for the provider (no batch split, no resource failed); the executor
    // sees the gate closed and ends the run as superseded.
    if (this.closed !== undefined) throw new TransientError(`not sent: ${this.closed}`);
  }
}

const gates = new AsyncLocalStorage<ActGate>();

/** Runs `work` with `gate` asked before each action it sends. */
export function withActGate<T>(gate: ActGate, work: () => Promise<T>): Promise<T> {
  return gates.run(gate, work);
}

/** For providers: the run still wants this action (throws a transient error when not). */
export async function beforeSending(): Promise<void> {
  await gates.getStore()?.check();
}
