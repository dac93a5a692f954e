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

/** What a write's way through the engine uses (the engine provides it). */
export interface WriterParts {
  readonly cache: Cache;
  readonly backend: Backend;
  readonly locks: PathLocks;
  readonly blocks: BlockCache;
  readonly revalidator: Revalidator;
  readonly write: WriteMode;
  readonly tierLink: TierLink | undefined;
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
  constructor(private readonly parts: WriterParts) {}

  /** Replaces the whole content of real path `key` (writeFile). Runs under the path's lock. */
  async writeWhole(key: string, data: Uint8Array, userPath: string, opts: WholeWriteOptions): Promise<void> {
    this.parts.cache.counters.writeOps++;
    await this.parts.locks.run(key, () => this.parts.blocks.aroundWrite(key, async () => {
      const tier = this.parts.tierLink;
      // A mode that keeps the written bytes shares them with the change, so other processes read them
      // from Redis; only if no other process's change ran since the version this write starts from.
      const shares = tier !== undefined && this.parts.write.keepsWrittenBytes;
      const expected = shares ? await tier.versionBeforeRewrite(key, data.length) : undefined;
      await this.parts.write.writeWhole(key, data, userPath, opts);
      await tier?.published({ kind: 'path', path: key }, shares ? data : undefined, expected);
    })).catch(this.failedFor(key));
  }

  /** Writes `data` at `position` of real path `key` (a handle write). Runs under the path's lock. */
  async writeAt(key: string, data: Uint8Array, position: number, userPath: string): Promise<void> {
    this.parts.cache.counters.writeOps++;
    await this.parts.locks.run(key, () => this.parts.blocks.aroundWrite(key, async () => {
      // Each check costs a turn even with nothing to do: made only where it can do something.
      if (this.parts.cache.revalidateAfter >= 0) await this.parts.revalidator.beforePatch(key);
      await this.parts.write.writeAt(key, data, position, userPath);
      if (this.parts.tierLink !== undefined) await this.parts.tierPublished({ kind: 'path', path: key });
    })).catch(this.failedFor(key));
  }

  /** Appends `data` to real path `key` (creating it); returns the new size. Runs under the path's lock. */
  async append(key: string, data: Uint8Array, userPath: string): Promise<number> {
    this.parts.cache.counters.writeOps++;
    return this.parts.locks.run(key, () => this.parts.blocks.aroundWrite(key, async () => {
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
    })).catch(this.failedFor(key));
  }

  /** Sets the length of real path `key`. Runs under the path's lock. */
  async truncate(key: string, length: number, userPath: string): Promise<void> {
    this.parts.cache.counters.writeOps++;
    await this.parts.locks.run(key, () => this.parts.blocks.aroundWrite(key, async () => {
      if (this.parts.cache.revalidateAfter >= 0) await this.parts.revalidator.beforePatch(key);
      await this.parts.write.truncate(key, length, userPath);
      if (this.parts.tierLink !== undefined) await this.parts.tierPublished({ kind: 'path', path: key });
    })).catch(this.failedFor(key));
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

  /** Creates an empty file if it does not exist (open with a create flag). */
  async createIfMissing(key: string, userPath: string, exclusive: boolean, truncate: boolean, mode: number): Promise<void> {
    const slot = this.parts.cache.store.lookup(key);
    if (slot >= 0 && !exclusive) {
      if (truncate) await this.truncate(key, 0, userPath);
      return;
    }
    const exists = await this.existsForCreate(key, userPath, exclusive);
    if (!exists) {
      await this.writeWhole(key, EMPTY, userPath, { exclusive, mode });
    } else if (truncate) {
      await this.truncate(key, 0, userPath);
    }
  }

  /** A rejection handler: `forgetAfterFailure` for `key`, then the same error. */
  private failedFor(key: string): (err: unknown) => never {
    return (err) => {
      this.parts.forgetAfterFailure(key);
      throw err;
    };
  }
}
