import { ChurnMap } from '../util/churn-map.js';

/**
 * One mutation at a time per path. Two concurrent writes to one file could otherwise reach the backend
 * in one order and the cache in the other; serializing them keeps the two equal. Reads never take it.
 */
export class PathLocks {
  private readonly tails = new ChurnMap<string, Promise<void>>();

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key);
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    this.tails.set(key, mine);
    try {
      if (previous) await previous;
      return await task();
    } finally {
      release();
      if (this.tails.get(key) === mine) this.tails.delete(key);
    }
  }

  /** True while a mutation of `key` runs or waits. */
  held(key: string): boolean {
    return this.tails.has(key);
  }

  /** Waits until every mutation running now has finished. */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()]);
  }
}
