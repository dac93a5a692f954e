import type { Backend, BackendStats } from '../backend/backend.js';
import type { Cache } from '../cache/cache.js';
import type { Revalidator } from '../coherence/revalidate.js';
import { asCallError, fsError, hasCode } from '../errors.js';
import type { PathLocks } from '../store/path-locks.js';
import type { TierScope } from '../tier/port.js';
import { isDirectoryMode } from '../util/modes.js';
import type { WholeWriteOptions, WriteMode } from '../write/write-mode.js';
import type { BlockCache } from './blocks.js';
import type { TierLink } from './tier-link.js';

const EMPTY = new Uint8Array(0);
const RESOLVED: Promise<void> = Promise.resolve();

/** What a write's way through the engine uses (the engine provides it). */
export interface WriterParts {
  readonly cache: Cache;
  readonly backend: Backend;
  readonly locks: PathLocks;
  readonly blocks: BlockCache;
  readonly revalidator: Revalidator;
  readonly write: WriteMode;
  readonly tierLink: TierLink | undefined;
  readonly readiness: { readonly gate: Promise<void> | undefined };
  statOf(key: string, follow: boolean, syscall: string, userPath: string): Promise<BackendStats>;
  tierPublished(...scopes: TierScope[]): Promise<void>;
  forgetAfterFailure(...keys: string[]): void;
}

/**
 * A write's way through the engine: counted, run under the path's lock with no block of the file
 * surviving it, a stale clean entry checked before it is patched, then handed to the write mode and
 * published to the shared tier. A failed write drops what the cache knew of the path before the error
 * reaches the caller (API.md 1.3 §2).
 */
export class Writer {
  /** True when the backend's sync face is in this process's memory and the write mode can use it. */
  readonly #canWriteNow: boolean;

  constructor(private readonly parts: WriterParts) {
    const { backend, write } = parts;
    this.#canWriteNow = backend.syncInMemory === true && backend.sync?.write !== undefined && write.writeAtNow !== undefined && write.truncateNow !== undefined;
  }

  /**
   * True when a mutation of `key` may complete before the call returns, through an in-memory sync face:
   * only where nothing could interleave with it anyway (as for immediate misses, engine/immediate.ts):
   * no journal replay, no shared tier, no revalidation, no dirty data (an eviction could have to wait for
   * a flush), the path's lock free and the file not in blocks. The asynchronous way stays the reference:
   * the same backend call, patch, counters and events, minus the promise turns.
   */
  #writesNow(key: string): boolean {
    const { cache, blocks } = this.parts;
    return (
      this.#canWriteNow && this.parts.readiness.gate === undefined && this.parts.tierLink === undefined && cache.revalidateAfter < 0 &&
      !cache.closed && cache.store.dirtyCount === 0 && !this.parts.locks.held(key) && (blocks.files.size === 0 || !blocks.files.has(key))
    );
  }

  /** {@link writeAt} done before it returns (true), when {@link #writesNow} allows; false: call {@link writeAt}. */
  writeAtNow(key: string, data: Uint8Array, position: number, userPath: string): boolean {
    if (!this.#writesNow(key)) return false;
    this.parts.cache.counters.writeOps++;
    try {
      return this.parts.write.writeAtNow!(key, data, position, userPath);
    } catch (err) {
      this.parts.forgetAfterFailure(key);
      throw err;
    }
  }

  /**
   * What {@link createIfMissing} does for a cached file (open with a create flag, not exclusive), done
   * before it returns: true when done, false when the caller must call {@link createIfMissing}.
   */
  createNow(key: string, userPath: string, exclusive: boolean, truncate: boolean): boolean {
    if (exclusive || this.parts.cache.store.lookup(key) < 0) return false;
    if (!truncate) return true;
    if (!this.#writesNow(key)) return false;
    this.parts.cache.counters.writeOps++;
    try {
      return this.parts.write.truncateNow!(key, 0, userPath);
    } catch (err) {
      this.parts.forgetAfterFailure(key);
      throw err;
    }
  }

  /** Replaces the whole content of real path `key` (writeFile). Runs under the path's lock. */
  writeWhole(key: string, data: Uint8Array, userPath: string, opts: WholeWriteOptions): Promise<void> {
    return this.#locked(key, async () => {
      const tier = this.parts.tierLink;
      // A mode that keeps the written bytes shares them with the change, so other processes read them
      // from Redis; only if no other process's change ran since the version this write starts from.
      const shares = tier !== undefined && this.parts.write.keepsWrittenBytes;
      const expected = shares ? await tier.versionBeforeRewrite(key, data.length) : undefined;
      await this.parts.write.writeWhole(key, data, userPath, opts);
      await tier?.published({ kind: 'path', path: key }, shares ? data : undefined, expected);
    });
  }

  /** Writes `data` at `position` of real path `key` (a handle write), under the path's lock ({@link #patch}). */
  writeAt(key: string, data: Uint8Array, position: number, userPath: string): Promise<void> {
    return this.#patch(key, data, position, userPath);
  }

  /** Appends `data` to real path `key` (creating it); returns the new size. Runs under the path's lock. */
  append(key: string, data: Uint8Array, userPath: string): Promise<number> {
    return this.#locked(key, async () => {
      await this.parts.revalidator.beforePatch(key);
      let size: number;
      const slot = this.parts.cache.store.lookup(key);
      if (slot >= 0) {
        size = this.parts.cache.store.size(slot);
      } else {
        let st: BackendStats;
        try {
          st = await this.parts.statOf(key, true, 'open', userPath);
        } catch (err) {
          if (!hasCode(err) || err.code !== 'ENOENT') throw err;
          await this.parts.write.writeWhole(key, data, userPath, {});
          await this.parts.tierPublished({ kind: 'path', path: key });
          return data.length;
        }
        if (isDirectoryMode(st.mode)) throw fsError('EISDIR', 'open', userPath);
        size = st.size;
      }
      if (data.length > 0) await this.parts.write.writeAt(key, data, size, userPath);
      await this.parts.tierPublished({ kind: 'path', path: key });
      return size + data.length;
    });
  }

  /** Sets the length of real path `key`, under the path's lock ({@link #patch}; every open with `'w'` truncates). */
  truncate(key: string, length: number, userPath: string): Promise<void> {
    return this.#patch(key, undefined, length, userPath);
  }

  /**
   * A handle write (`data` at `at`) or a truncation (no `data`, length `at`) under the path's lock, taken
   * inline rather than through {@link #locked}: these are the hot path, and a closure and an async frame
   * per write were a third of what a small write allocated.
   */
  async #patch(key: string, data: Uint8Array | undefined, at: number, userPath: string): Promise<void> {
    const parts = this.parts;
    parts.cache.counters.writeOps++;
    const waiting = parts.locks.acquire(key);
    try {
      try {
        if (waiting !== undefined) await waiting;
        parts.blocks.dropForWrite(key);
        // Each check costs a turn even with nothing to do: made only where it can do something.
        if (parts.cache.revalidateAfter >= 0) await parts.revalidator.beforePatch(key);
        if (data === undefined) await parts.write.truncate(key, at, userPath);
        else await parts.write.writeAt(key, data, at, userPath);
        if (parts.tierLink !== undefined) await parts.tierPublished({ kind: 'path', path: key });
      } finally {
        parts.blocks.dropForWrite(key);
        parts.locks.release(key);
      }
    } catch (err) {
      parts.forgetAfterFailure(key);
      throw err;
    }
  }

  /**
   * Whether the file an open-with-create (or a write-back creation) targets already exists in the
   * backend. A directory there is EISDIR; an existing file is EEXIST when `exclusive`.
   */
  async existsForCreate(key: string, userPath: string, exclusive: boolean): Promise<boolean> {
    let st: BackendStats;
    try {
      st = await this.parts.backend.stat(key);
    } catch (err) {
      if (hasCode(err) && err.code === 'ENOENT') return false;
      throw asCallError(err, 'open', userPath);
    }
    if (isDirectoryMode(st.mode)) throw fsError('EISDIR', 'open', userPath);
    if (exclusive) throw fsError('EEXIST', 'open', userPath);
    return true;
  }

  /**
   * Creates an empty file if it does not exist (open with a create flag). Not `async`: a cached file
   * (every `open(path, 'w')` of a file written before) goes straight to its truncation, no extra frame.
   */
  createIfMissing(key: string, userPath: string, exclusive: boolean, truncate: boolean, mode: number): Promise<void> {
    const slot = this.parts.cache.store.lookup(key);
    if (slot >= 0 && !exclusive) return truncate ? this.truncate(key, 0, userPath) : RESOLVED;
    return this.#create(key, userPath, exclusive, truncate, mode);
  }

  async #create(key: string, userPath: string, exclusive: boolean, truncate: boolean, mode: number): Promise<void> {
    const exists = await this.existsForCreate(key, userPath, exclusive);
    if (!exists) {
      await this.writeWhole(key, EMPTY, userPath, { exclusive, mode });
    } else if (truncate) {
      await this.truncate(key, 0, userPath);
    }
  }

  /**
   * Runs `write` as one counted mutation of `key`: under the path's lock, with no block of the file
   * surviving it (BlockCache.dropForWrite), and a failure dropping what the cache knew of the path
   * before the error reaches the caller.
   */
  async #locked<T>(key: string, write: () => Promise<T>): Promise<T> {
    const parts = this.parts;
    parts.cache.counters.writeOps++;
    const waiting = parts.locks.acquire(key);
    try {
      try {
        if (waiting !== undefined) await waiting;
        parts.blocks.dropForWrite(key);
        return await write();
      } finally {
        parts.blocks.dropForWrite(key);
        parts.locks.release(key);
      }
    } catch (err) {
      parts.forgetAfterFailure(key);
      throw err;
    }
  }
}
