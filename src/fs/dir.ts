import type { DirEntry } from './stats-object.js';

/** Node's error for a call on a closed `Dir` (`ERR_DIR_CLOSED`). */
export class DirClosedError extends Error {
  readonly code = 'ERR_DIR_CLOSED';
  constructor() {
    super('Directory handle was closed');
    this.name = 'Error';
  }
}

/**
 * What `opendir` returns: the shape of Node's `fs.Dir`. The entries were listed through the cache
 * when it was opened (one `readdir`), so reading it goes to neither the cache nor the backend again.
 */
export class CacheDir implements AsyncIterable<DirEntry> {
  /** The path this directory was opened with, as given. */
  readonly path: string;
  #entries: DirEntry[];
  #next = 0;
  #closed = false;

  /** @internal Made by `opendir`. */
  constructor(path: string, entries: DirEntry[]) {
    this.path = path;
    this.#entries = entries;
  }

  /** The next entry, or null after the last one; with a callback, given to it (Node's other form). */
  read(): Promise<DirEntry | null>;
  read(callback: (err: Error | null, entry?: DirEntry | null) => void): void;
  read(callback?: (err: Error | null, entry?: DirEntry | null) => void): Promise<DirEntry | null> | void {
    if (callback === undefined) return settle(() => this.readSync());
    let entry: DirEntry | null;
    try {
      entry = this.readSync();
    } catch (err) {
      return void process.nextTick(callback, err as Error);
    }
    process.nextTick(callback, null, entry);
  }

  /** The next entry, or null after the last one, at once. */
  readSync(): DirEntry | null {
    if (this.#closed) throw new DirClosedError();
    return this.#next < this.#entries.length ? this.#entries[this.#next++]! : null;
  }

  /** Releases the listing; any later call fails with `ERR_DIR_CLOSED`, as Node's does. With a callback, calls it. */
  close(): Promise<void>;
  close(callback: (err: Error | null) => void): void;
  close(callback?: (err: Error | null) => void): Promise<void> | void {
    if (callback === undefined) return settle(() => this.closeSync());
    try {
      this.closeSync();
    } catch (err) {
      return void process.nextTick(callback, err as Error);
    }
    process.nextTick(callback, null);
  }

  /** {@link close}, at once. */
  closeSync(): void {
    if (this.#closed) throw new DirClosedError();
    this.#closed = true;
    this.#entries = [];
  }

  /** Node's name for the async iteration. */
  entries(): AsyncGenerator<DirEntry> {
    return this[Symbol.asyncIterator]();
  }

  /** Yields every entry left, then closes the directory (also when the loop stops early). */
  async *[Symbol.asyncIterator](): AsyncGenerator<DirEntry> {
    try {
      for (let entry = this.readSync(); entry !== null; entry = this.readSync()) yield entry;
    } finally {
      if (!this.#closed) this.closeSync();
    }
  }
}

/** `work`'s value as a promise, its throw as a rejection (as an async method would give them). */
function settle<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (err) {
    return Promise.reject(err);
  }
}
