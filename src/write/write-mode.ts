import type { Backend, BackendStats } from '../backend/backend.js';
import type { WritePort } from '../cache/ports.js';
import type { Journal } from './back/journal.js';

/** A change of the namespace that flushes and the journal are ordered around. */
export type NamespaceOp = { kind: 'rename'; from: string; to: string } | { kind: 'remove'; path: string };

/** Options of a whole-file write: `exclusive` fails with EEXIST when the file exists; `mode` for a new file. */
export interface WholeWriteOptions {
  exclusive?: boolean;
  mode?: number;
}

/**
 * How writes reach the backend, chosen once when the cache is built: write-through (backend, then the
 * cache), write-around (backend only; the cached copy is dropped) or write-back (the cache now, the
 * backend later). The engine calls these under the path's lock, after its own checks; nothing above
 * asks which mode is in force.
 */
export interface WriteMode {
  /** True when the cache holds what was just written (write-through): it may be shared as it is. */
  readonly keepsWrittenBytes: boolean;
  /**
   * True when a write may return before the backend has it (write-back): only then can {@link flushKey}
   * have work to do, so a handle's close skips the call (and its async frame) otherwise.
   */
  readonly defersWrites: boolean;
  /** Replaces the whole content of real path `key` (writeFile). */
  writeWhole(key: string, data: Uint8Array, userPath: string, opts: WholeWriteOptions): Promise<void>;
  /** Writes `data` at `position` of real path `key` (a handle's write). */
  writeAt(key: string, data: Uint8Array, position: number, userPath: string): Promise<void>;
  /** Sets the length of real path `key`. */
  truncate(key: string, length: number, userPath: string): Promise<void>;
  /**
   * {@link writeAt} completed before it returns, through the backend's in-memory sync face (the Writer
   * calls it only when nothing could interleave: engine/writer.ts); false when this mode or backend
   * cannot, and the caller takes the asynchronous way.
   */
  writeAtNow?(key: string, data: Uint8Array, position: number, userPath: string): boolean;
  /** {@link truncate} completed before it returns, as {@link writeAtNow}. */
  truncateNow?(key: string, length: number, userPath: string): boolean;
  /** Writes what the cache holds for `key` and the backend does not yet (fsync); nothing to do when writes go at once. */
  flushKey(key: string): Promise<void>;
  /** {@link flushKey} for every path `filter` accepts; an AggregateError names each path that failed. */
  flushAll(filter?: (key: string) => boolean): Promise<void>;
  /** {@link flushKey} for the given paths; an AggregateError names each path that failed. */
  flushKeys(keys: Iterable<string>): Promise<void>;
  /** Runs `change` (a rename or removal in the backend, then in the cache) ordered with flushes and the journal. */
  aroundNamespaceChange(op: NamespaceOp, keys: readonly string[], change: () => Promise<void>): Promise<void>;
  /** Stops background work and flushes everything; rejects (staying usable) if a flush fails. */
  close(): Promise<void>;
  /** Resumes background work after a {@link close} that failed. */
  reopen(): void;
}

/** What a write mode needs from the engine and the cache (the engine provides it). */
export interface WriteContext {
  readonly backend: Backend;
  readonly cache: WritePort;
  /** The write-back journal, when the `journal` option is set. */
  readonly journal: Journal | undefined;
  /** Milliseconds between background flushes; 0 = none. */
  readonly flushInterval: number;
  /** Stats of a path (metadata cache, revalidation and dirty data taken into account). */
  statOf(key: string, follow: boolean, syscall: string, userPath: string): Promise<BackendStats>;
  /** Loads the whole file `key` through the cache's shared loader. */
  load(key: string, userPath: string): Promise<Buffer>;
  /** Whether the file a creation targets exists: EISDIR for a directory, EEXIST when `exclusive`. */
  existsForCreate(key: string, userPath: string, exclusive: boolean): Promise<boolean>;
}
