/**
 * Requests made in the same turn of the event loop, answered together: a
 * thousand runs starting at one instant claim, check and begin in a few
 * set-based statements, not a few thousand. Every answer is computed after its
 * request was made, so it is as fresh as a call of its own would have been.
 */
export class Batcher<K, V> {
  private pending: { key: K; resolve: (value: V) => void; reject: (reason: unknown) => void }[] =
    [];

  constructor(
    /** One answer per key, in order: a value, or the error that request fails with. */
    private readonly answer: (keys: readonly K[]) => Promise<readonly (V | BatchError)[]>,
  ) {}

  ask(key: K): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      this.pending.push({ key, resolve, reject });
      // After the promise callbacks already queued: every request of this turn joins.
      if (this.pending.length === 1) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    try {
      const answers = await this.answer(batch.map((b) => b.key));
      batch.forEach((b, i) => {
        const answer = answers[i] as V | BatchError;
        if (answer instanceof BatchError) b.reject(answer.error);
        else b.resolve(answer);
      });
    } catch (error) {
      for (const b of batch) b.reject(error);
    }
  }
}

/** One request of a batch that fails on its own (the others are answered). */
export class BatchError {
  constructor(readonly error: unknown) {}
}
