import { ChurnMap } from '../util/churn-map.js';

/** A held lock with nobody waiting (a queue is only made once a second mutation of the path arrives). */
const NO_WAITERS: (() => void)[] = [];

/**
 * One mutation at a time per path. Two concurrent writes to one file could otherwise reach the backend
 * in one order and the cache in the other; serializing them keeps the two equal. Reads never take it.
 *
 * A lock is taken with {@link acquire} and given back with {@link release}, so that a writer can hold
 * it across its own awaits without a closure or a promise per write: an uncontended acquire costs one
 * map store. Waiters are served in arrival order, the lock handed from one holder straight to the next.
 */
export class PathLocks {
  /** Held paths, each with the resolvers of the mutations waiting for it, oldest first. */
  readonly #held = new ChurnMap<string, (() => void)[]>();
  /** Callers of {@link idle} waiting for the last lock to go. */
  #idleWaiters: (() => void)[] = [];

  /**
   * Takes the lock of `key`: undefined when it is now held by the caller, otherwise a promise that
   * resolves once it is. Either way the caller must {@link release} it exactly once afterwards.
   */
  acquire(key: string): Promise<void> | undefined {
    const waiters = this.#held.get(key);
    if (waiters === undefined) {
      this.#held.set(key, NO_WAITERS);
      return undefined;
    }
    return new Promise<void>((resolve) => {
      if (waiters === NO_WAITERS) this.#held.set(key, [resolve]);
      else waiters.push(resolve);
    });
  }

  /** Gives back the lock of `key`, to the oldest waiter if there is one. */
  release(key: string): void {
    const waiters = this.#held.get(key);
    if (waiters === undefined) return;
    const next = waiters.length === 0 ? undefined : waiters.shift();
    if (next !== undefined) {
      next(); // the lock stays held: it passes to that waiter
      return;
    }
    this.#held.delete(key);
    if (this.#held.size === 0 && this.#idleWaiters.length > 0) {
      const idle = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const resolve of idle) resolve();
    }
  }

  /** Runs `task` holding the lock of `key`. */
  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const waiting = this.acquire(key);
    try {
      if (waiting !== undefined) await waiting;
      return await task();
    } finally {
      this.release(key);
    }
  }

  /** True while a mutation of `key` runs or waits. */
  held(key: string): boolean {
    return this.#held.has(key);
  }

  /** Waits until every mutation running now (and any that queues meanwhile) has finished. */
  idle(): Promise<void> {
    if (this.#held.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }
}
