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

  /** The next entry, or null after the last one. */
  async read(): Promise<DirEntry | null> {
    return this.readSync();
  }

  /** The next entry, or null after the last one, at once. */
  readSync(): DirEntry | null {
    if (this.#closed) throw new DirClosedError();
    return this.#next < this.#entries.length ? this.#entries[this.#next++]! : null;
  }

  /** Releases the listing; any later call fails with `ERR_DIR_CLOSED`, as Node's does. */
  async close(): Promise<void> {
    this.closeSync();
  }

  /** {@link close}, at once. */
  closeSync(): void {
    if (this.#closed) throw new DirClosedError();
    this.#closed = true;
    this.#entries = [];
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
