import type { Backend } from '../../backend/backend.js';
import type { DirtyData, WritePort } from '../../cache/ports.js';
import { asCallError, CacheClosedError, fsError } from '../../errors.js';
import { isDirectoryMode } from '../../util/modes.js';
import { WriteAround } from '../around.js';
import type { NamespaceOp, WholeWriteOptions, WriteContext, WriteMode } from '../write-mode.js';
import type { DirtyRanges } from './dirty-ranges.js';
import { Flusher } from './flusher.js';
import type { Journal } from './journal.js';

export type { FlushErrorEvent, FlushEvent } from './flusher.js';

const EMPTY = new Uint8Array(0);
const noop = (): void => undefined;

/**
 * Write-back: writes land in the data store and mark the entry dirty; this module owns getting them to
 * the backend ({@link Flusher}), and (with a journal) making them survive a crash until then.
 *
 * - The namespace (which files and directories exist) always lives in the backend: creating a file
 *   creates it there at once, empty, and only its content is deferred. A rename or removal holds off the
 *   flushes of the paths it touches ({@link aroundNamespaceChange}), so a flush can never recreate a
 *   removed file or write under a name that no longer holds the data.
 * - A write too large to cache goes to the backend as write-around would, after the file's earlier
 *   dirty data (and the journal record saying it was flushed: a replay must never lay older records
 *   over that write).
 *
 * It is also the cache's {@link DirtyData} port: the cache flushes through it before dropping dirty data.
 */
export class WriteBack implements WriteMode, DirtyData {
  /** The cache holds the written bytes, but dirty: they are not the backend's yet. */
  readonly keepsWrittenBytes = false;
  readonly defersWrites = true;
  private readonly cache: WritePort;
  private readonly backend: Backend;
  private readonly journal: Journal | undefined;
  private readonly flusher: Flusher;
  /** The writes this mode cannot cache. */
  private readonly direct: WriteAround;
  /** Rename intents in flight, by `from\0to`, so the cache's move can journal their outcome. */
  private readonly intents = new Map<string, { lsn: number; done: boolean }>();
  /** Set once `close` flushed everything: writes after that fail rather than dirty a closing cache. */
  private stopped = false;

  constructor(private readonly ctx: WriteContext) {
    this.cache = ctx.cache;
    this.backend = ctx.backend;
    this.journal = ctx.journal;
    this.flusher = new Flusher(ctx.cache, ctx.backend, ctx.journal, ctx.flushInterval);
    this.direct = new WriteAround(ctx);
    ctx.cache.attachDirtyData(this);
  }

  // ---------------------------------------------------------------- writes (under the path's lock)

  /** Replaces the content of `key` in the cache and marks it dirty. */
  async writeWhole(key: string, data: Uint8Array, userPath: string, opts: WholeWriteOptions): Promise<void> {
    const store = this.cache.store;
    if (store.lookup(key) < 0 || opts.exclusive) await this.ensureExists(key, userPath, opts.exclusive ?? false, opts.mode);
    if (!store.admissible(data.length)) {
      await this.flusher.flushKey(key);
      await this.direct.writeWhole(key, data, userPath, {});
      return;
    }
    this.checkOpen('write');
    const now = Date.now();
    let slot = store.lookup(key);
    if (slot >= 0) store.replaceContent(slot, data);
    else slot = store.install(key, data, data.length, this.cache.expiryFor(key, now), now);
    this.dirtied(slot, key, now).replaced(data.length);
    const journaled = this.journal?.write(key, data);
    await this.cache.enforceLimits();
    await journaled;
  }

  /** Writes `data` at `position` in the cached copy of `key` (loading it first). */
  async writeAt(key: string, data: Uint8Array, position: number, userPath: string): Promise<void> {
    const store = this.cache.store;
    let slot = store.lookup(key);
    if (slot < 0) slot = await this.loadForUpdate(key, userPath, position + data.length);
    if (slot < 0 || !store.admissible(Math.max(store.size(slot), position + data.length))) {
      await this.flusher.flushKey(key);
      await this.direct.writeAt(key, data, position, userPath);
      return;
    }
    this.checkOpen('write');
    const sizeBefore = store.size(slot);
    store.writeAt(slot, position, data);
    this.dirtied(slot, key, Date.now()).wrote(position, position + data.length, sizeBefore);
    const journaled = this.journal?.pwrite(key, position, data);
    await this.cache.enforceLimits();
    await journaled;
  }

  /** Cuts or extends the cached copy of `key`. */
  async truncate(key: string, length: number, userPath: string): Promise<void> {
    const store = this.cache.store;
    let slot = store.lookup(key);
    if (slot < 0) slot = await this.loadForUpdate(key, userPath, length);
    if (slot < 0 || !store.admissible(length)) {
      await this.flusher.flushKey(key);
      await this.direct.truncate(key, length, userPath);
      return;
    }
    this.checkOpen('truncate');
    const sizeBefore = store.size(slot);
    store.truncate(slot, length);
    this.dirtied(slot, key, Date.now()).truncated(length, sizeBefore);
    const journaled = this.journal?.truncate(key, length);
    await this.cache.enforceLimits();
    await journaled;
  }

  // ---------------------------------------------------------------- flushing

  flushKey(key: string): Promise<void> {
    return this.flusher.flushKey(key);
  }

  flushAll(filter?: (key: string) => boolean): Promise<void> {
    return this.flusher.flushAll(filter);
  }

  flushKeys(keys: Iterable<string>): Promise<void> {
    return this.flusher.flushKeys(keys);
  }

  flushWhole(key: string): Promise<void> {
    return this.flusher.flushWhole(key);
  }

  isFlushing(key: string): boolean {
    return this.flusher.isFlushing(key);
  }

  /** Stops the background flusher and flushes everything (rejects if some flush fails). */
  async close(): Promise<void> {
    await this.flusher.stop();
    // Loop: a write that was already past the closed check when close began may dirty an entry again.
    while (this.flusher.hasDirty) await this.flusher.flushAll();
    this.stopped = true;
  }

  reopen(): void {
    this.flusher.restart();
  }

  // ---------------------------------------------------------------- namespace changes

  /**
   * Runs a rename or removal (`change`: the backend call, then the cache's move or discard) ordered
   * with flushes and the journal:
   *
   * 1. flushes of the paths stop being started, and the ones writing now finish (so none can recreate a
   *    removed file or write to a name the data is leaving);
   * 2. with a journal, a rename that moves journaled data is journaled as an intent first, and its
   *    outcome (done, in the same tick as the cache moves its entries, or aborted) after; a removal is
   *    journaled when the cache discards the dirty entries;
   * 3. the change resolves once those records are written; then flushes resume, under the new names.
   */
  async aroundNamespaceChange(op: NamespaceOp, keys: readonly string[], change: () => Promise<void>): Promise<void> {
    const flusher = this.flusher;
    for (const k of keys) flusher.pause(k);
    try {
      for (const k of keys) await flusher.settleWithin(k);
      const intent = op.kind === 'rename' ? await this.journalRenameIntent(op.from, op.to) : undefined;
      try {
        await change();
      } catch (err) {
        if (intent && !intent.done) await this.journal!.renameAbort(intent.lsn).catch(noop);
        throw err;
      } finally {
        if (op.kind === 'rename') this.intents.delete(`${op.from}\0${op.to}`);
      }
      await this.journal?.barrier();
    } finally {
      for (const k of keys) flusher.resume(k);
    }
  }

  /** The cache is moving its entries from `from` to `to` (called in the same tick, before it does). */
  movingWithin(from: string, to: string): void {
    const journal = this.journal;
    if (!journal) return;
    const intent = this.intents.get(`${from}\0${to}`);
    if (intent && !intent.done) {
      intent.done = true;
      void journal.renameDone(intent.lsn, from, to);
    } else if (journal.hasPendingWithin(from) || journal.hasPendingWithin(to)) {
      void journal.renameDone(0, from, to);
    }
  }

  /** The program removed `key`, a dirty file: its dirty data is moot. */
  forget(key: string): void {
    this.flusher.forget(key);
    if (this.journal?.latestLsn(key) !== undefined) void this.journal.removed(key);
  }

  /** `from` became `to` in the backend and the store; dirty ranges and retry state move along. */
  renamed(from: string, to: string): void {
    this.flusher.renamed(from, to);
  }

  // ---------------------------------------------------------------- internals

  private checkOpen(syscall: string): void {
    if (this.stopped || this.cache.closed) throw new CacheClosedError(syscall);
  }

  private dirtied(slot: number, key: string, now: number): DirtyRanges {
    this.cache.store.markDirty(slot, now);
    const ranges = this.flusher.rangesOf(key);
    this.cache.metadataChanged(key);
    this.cache.invalidate({ path: key }, 'keep');
    return ranges;
  }

  /** Creates `key` in the backend (empty) if it is missing, so the namespace stays in the backend. */
  private async ensureExists(key: string, userPath: string, exclusive: boolean, mode?: number): Promise<void> {
    if (!(await this.ctx.existsForCreate(key, userPath, exclusive))) {
      try {
        await this.backend.writeFile(key, EMPTY, { flag: 'wx', ...(mode !== undefined ? { mode } : {}) });
      } catch (err) {
        throw asCallError(err, 'open', userPath);
      }
      this.cache.metadataChanged(key);
    }
  }

  /** Loads `key` into the store so a partial write can patch it; -1 when it cannot be cached. */
  private async loadForUpdate(key: string, userPath: string, neededSize: number): Promise<number> {
    const store = this.cache.store;
    const st = await this.ctx.statOf(key, true, 'open', userPath);
    if (isDirectoryMode(st.mode)) throw fsError('EISDIR', 'open', userPath);
    if (!store.admissible(Math.max(st.size, neededSize))) return -1;
    const data = await this.ctx.load(key, userPath);
    let slot = store.lookup(key);
    if (slot < 0) {
      const now = Date.now();
      slot = store.install(key, data, data.length, this.cache.expiryFor(key, now), now);
    }
    return slot;
  }

  /** With a journal: records a rename intent when the rename moves journaled data (or a directory). */
  private async journalRenameIntent(from: string, to: string): Promise<{ lsn: number; done: boolean } | undefined> {
    const journal = this.journal;
    if (!journal) return undefined;
    let isDirectory: boolean;
    try {
      isDirectory = isDirectoryMode((await this.backend.lstat(from)).mode);
    } catch {
      return undefined; // the rename itself will fail, and must not look like it happened to a replay
    }
    // A directory's files can be written while it is renamed (only the directory's path is locked).
    if (!isDirectory && !journal.hasPendingWithin(from) && !journal.hasPendingWithin(to)) return undefined;
    const { lsn, written } = journal.renameIntent(from, to);
    const intent = { lsn, done: false };
    this.intents.set(`${from}\0${to}`, intent);
    try {
      await written;
    } catch (err) {
      this.intents.delete(`${from}\0${to}`);
      throw err;
    }
    return intent;
  }
}
