import type { Backend, BackendFile, BackendStats } from '../backend/backend.js';
import { BLOCK_MARK, type BlockIndex } from '../cache/block-keys.js';
import type { Cache } from '../cache/cache.js';
import type { InstallSource } from '../cache/ports.js';
import { asCallError } from '../errors.js';
import { BlockAdmission } from './blocks-admission.js';
import { revalidateBlocks } from './blocks-revalidate.js';
import { SCAN_DIVISOR, WholeReads } from './blocks-whole.js';
import { newBlockedFile, type BlockedFile, type ReadSource } from './block-file.js';

export type { ReadSource } from './block-file.js';

/**
 * Block size, chosen by measurement (see docs/cold-path.md): locally a 64 KiB read costs about what a
 * 16 KiB one does (the thread-pool round trip dominates, not the copy) and warms a hot region four times
 * faster; over a network 16 KiB blocks left a 4 MiB hot region at 81.5% hits where 64 KiB reach 87%.
 */
export const DEFAULT_BLOCK_SIZE = 64 * 1024;
/** Files larger than this are cached in blocks; smaller ones whole, as before. */
export const DEFAULT_BLOCK_THRESHOLD = 1024 * 1024;
/** Blocks read ahead of a sequential reader. */
const READ_AHEAD_BLOCKS = 4;

const MARK = BLOCK_MARK;

/** What the block cache needs of the engine that owns it (an interface, so no import runs back up). */
export interface BlockHost {
  readonly cache: Cache;
  readonly backend: Backend;
  /** Loads record the file's identity for revalidation (revalidate or watch on). */
  readonly capturesIdentity: boolean;
  readonly revalidator: { stat(key: string, follow: boolean, revalidation: boolean): Promise<BackendStats> };
  readonly loader: { recordRead(key: string, started: number, bytes: number): void };
}

/**
 * Large files in fixed-size blocks, each block an entry of the one data store (same `maxBytes`, policy
 * and pool) under the key `path NUL # index`. Blocks are only ever clean: every write to a file drops its
 * blocks before and after it runs ({@link aroundWrite}), so dirty data always lives in a
 * whole-file entry, which reads prefer; write-back keeps its whole-file behaviour (docs/cold-path.md).
 *
 * Counting: one call counts one hit (every byte it needed was resident) or one miss, never one per block.
 */
export class BlockCache implements BlockIndex {
  /** Block size in bytes (tests lower it, through the internal `blockSize` option). */
  blockSize = DEFAULT_BLOCK_SIZE;
  /** Files larger than this are cached in blocks. */
  threshold = DEFAULT_BLOCK_THRESHOLD;
  /** Which blocks random reads admit, from what blocks and reads cost on this backend. */
  readonly admission = new BlockAdmission();
  readonly files = new Map<string, BlockedFile>();
  /** Resident block entries (the store counts each; `entries` counts files). */
  blockEntries = 0;
  /** Files with at least one resident block. */
  filesWithBlocks = 0;
  private readonly pending = new Map<string, Promise<Buffer>>();
  /** `readFile` of block-cached files (blocks-whole.ts). */
  readonly whole: WholeReads;

  constructor(private readonly host: BlockHost) {
    this.whole = new WholeReads(this, host);
  }

  /** True when a file of `size` bytes is cached in blocks (when it is cached at all). */
  wants(size: number): boolean {
    return size > this.threshold;
  }

  /** The store removed `key` (a block key): forget its slot. */
  removed(key: string): void {
    const at = key.indexOf(MARK);
    const f = this.files.get(key.slice(0, at));
    if (f === undefined) return;
    const index = Number(key.slice(at + MARK.length));
    if (f.slots.delete(index)) {
      this.blockEntries--;
      if (f.slots.size === 0) this.filesWithBlocks--;
      this.#recount();
    }
  }

  /** `maxEntries` counts files (API.md): a file's blocks beyond its first are outside the store's budget. */
  #recount(): void {
    this.host.cache.store.uncountedEntries = this.blockEntries - this.filesWithBlocks;
  }

  /** Drops every block of `key` and what is known of it. True if a block was resident. */
  dropFile(key: string): boolean {
    const f = this.files.get(key);
    if (f === undefined) return false;
    this.files.delete(key);
    const had = f.slots.size > 0;
    const store = this.host.cache.store;
    for (const slot of [...f.slots.values()]) store.remove(slot, 'invalidated');
    // removed() no longer finds the record: settle the counters here.
    this.blockEntries -= f.slots.size;
    if (f.slots.size > 0) this.filesWithBlocks--;
    f.slots.clear();
    this.#recount();
    return had;
  }

  /** Drops the blocks of every file `match` accepts (every file without it); returns those that had some. */
  dropWhere(match: ((key: string) => boolean) | undefined): string[] {
    const had: string[] = [];
    if (this.files.size === 0) return had;
    for (const key of [...this.files.keys()]) if ((match === undefined || match(key)) && this.dropFile(key)) had.push(key);
    return had;
  }

  /** A large file read whole: its blocks, unless it is a scan (larger than `maxBytes / SCAN_DIVISOR`). */
  async installWhole(key: string, data: Uint8Array, size: number, source: InstallSource): Promise<void> {
    const maxBytes = this.host.cache.store.maxBytes;
    if (maxBytes !== 0 && size > maxBytes / SCAN_DIVISOR) {
      this.note(key, size);
      return;
    }
    await this.installAll(key, data.subarray(0, size), source.identity, source.statStartedAt ?? 0);
  }

  /** Size and access count of a block-cached file with anything resident, for `batchStats`. */
  describe(key: string): { size: number; accessCount: number } | undefined {
    const f = this.files.get(key);
    return f !== undefined && f.slots.size > 0 ? { size: f.size, accessCount: f.accessCount } : undefined;
  }

  // ---------------------------------------------------------------- positional reads

  /**
   * The hit path: copies `[position, position + length)` when every block it touches is resident and
   * valid, counting one hit; -1 when the caller must go to {@link readAt}. Allocates only the views
   * `Buffer#copy` makes of partial blocks.
   */
  hit(key: string, into: Uint8Array, offset: number, length: number, position: number): number {
    const f = this.files.get(key);
    if (f === undefined || f.slots.size === 0) return -1;
    const core = this.host.cache;
    if (core.revalidateAfter >= 0 && Date.now() - f.validatedAt >= core.revalidateAfter) return -1;
    return this.copyResident(key, f, into, offset, length, position);
  }

  /** @internal Copies a range when every block it touches is resident (counting a hit), else -1. */
  copyResident(key: string, f: BlockedFile, into: Uint8Array, offset: number, length: number, position: number): number {
    const core = this.host.cache;
    const store = core.store;
    const size = f.size;
    const end = Math.min(size, position + length);
    const B = this.blockSize;
    const first = Math.floor(position / B);
    if (position < end && end <= (first + 1) * B) {
      // Within one block (a 4 KiB read, nearly always): one lookup, and the copy made without Buffer#copy's
      // checks (its view of the source is the one allocation a hit makes).
      const slot = f.slots.get(first);
      if (slot === undefined) return -1;
      const expires = store.expiresAt(slot);
      if (expires !== Infinity && expires <= Date.now()) return -1;
      const view = store.view(slot);
      const from = position - first * B;
      const n = Math.min(end - position, view.length - from);
      into.set(new Uint8Array(view.buffer, view.byteOffset + from, n), offset);
      store.touch(slot, 0);
      f.accessCount++;
      if (position !== f.nextSequential) f.nextSequential = end; // a random read: nothing to read ahead
      else this.sequential(key, f, position, end);
      core.counters.hits++;
      return n;
    }
    if (position < end) {
      let now = 0;
      for (let b = first; b * B < end; b++) {
        const slot = f.slots.get(b);
        if (slot === undefined) return -1;
        if (store.expiresAt(slot) !== Infinity && store.expiresAt(slot) <= (now ||= Date.now())) return -1;
      }
    }
    let n = 0;
    for (let b = Math.floor(position / B); position < end && b * B < end; b++) {
      const slot = f.slots.get(b)!;
      const view = store.view(slot);
      const from = Math.max(position, b * B) - b * B;
      const to = Math.min(end, (b + 1) * B) - b * B;
      n += view.copy(into, offset + n, from, to);
      store.touch(slot, 0);
    }
    f.accessCount++;
    this.sequential(key, f, position, end);
    core.counters.hits++;
    return Math.max(0, n);
  }

  /**
   * A positional read of a file already known to be block-cached, after {@link hit} declined: checks the
   * file against the backend when revalidation is due, then serves the resident blocks (a hit) or loads
   * the missing ones (a miss).
   */
  readAt(key: string, into: Uint8Array, offset: number, length: number, position: number, userPath: string, source: ReadSource): Promise<number> {
    const core = this.host.cache;
    const f = this.files.get(key)!;
    if (core.revalidateAfter >= 0 && Date.now() - f.validatedAt >= core.revalidateAfter) {
      return this.revalidateThenRead(key, f, into, offset, length, position, userPath, source);
    }
    // No await before the copy or the backend read: a miss here costs the backend's call plus little.
    const n = this.copyResident(key, f, into, offset, length, position);
    if (n >= 0) return Promise.resolve(n);
    core.counters.misses++;
    return this.loadAt(key, undefined, 0, into, offset, length, position, source, userPath, f.size);
  }

  private async revalidateThenRead(
    key: string, f: BlockedFile, into: Uint8Array, offset: number, length: number, position: number, userPath: string, source: ReadSource,
  ): Promise<number> {
    const askedAt = Date.now();
    const changed = await revalidateBlocks(this, this.host, key, f, askedAt, userPath);
    const n = changed === undefined ? this.copyResident(key, f, into, offset, length, position) : -1;
    if (n >= 0) return n;
    this.host.cache.counters.misses++;
    if (changed !== undefined) return this.loadAt(key, changed, askedAt, into, offset, length, position, source, userPath);
    return this.loadAt(key, undefined, 0, into, offset, length, position, source, userPath, f.size);
  }

  /**
   * A miss (already counted) of a file cached in blocks. A random read within one block that is neither
   * resident nor loading goes as {@link BlockAdmission} plans: its range alone from the backend (the
   * miss costs the backend's read of what was asked), with the block filled beside it or not yet, or
   * the block loaded. Any other read loads the blocks it touches (sharing loads in flight), copies from
   * them, and reads ahead when sequential. `st` is the backend's stat taken (at `statStartedAt`) before
   * any byte was read, or undefined when the record already knows the size.
   */
  loadAt(
    key: string, st: BackendStats | undefined, statStartedAt: number, into: Uint8Array, offset: number, length: number,
    position: number, source: ReadSource, userPath: string, knownSize = -1,
  ): Promise<number> {
    const fail = (err: unknown): never => {
      throw asCallError(err, 'read', userPath);
    };
    const f = this.files.get(key);
    if (f !== undefined && f.size === (st !== undefined ? st.size : knownSize)) {
      const b = this.#randomBlock(key, f, position, length);
      const read = b < 0 ? undefined : this.#randomRead(key, f, b, into, offset, length, position, source, fail);
      if (read !== undefined) return read;
    }
    return this.loadRange(key, st, statStartedAt, into, offset, length, position, source, knownSize).catch(fail);
  }

  /**
   * A random read of block `b` as {@link BlockAdmission} plans it: the range alone (the block filled
   * beside it, or not yet admitted), or undefined when the caller is to load the block.
   */
  #randomRead(
    key: string, f: BlockedFile, b: number, into: Uint8Array, offset: number, length: number, position: number, source: ReadSource,
    fail: (err: unknown) => never,
  ): Promise<number> | undefined {
    const B = this.blockSize;
    const store = this.host.cache.store;
    const room = (): boolean => store.fits(Math.min(B, f.size - b * B), f.slots.size === 0);
    // Asked only where blocks are cheap: a local miss pays for none of it.
    const nearby = this.admission.cheapBlocks && (this.#near(key, f, b - 1) || this.#near(key, f, b + 1)) && room();
    const plan = this.admission.decide(f, b, nearby, Math.ceil(store.maxBytes / B));
    if (plan === 'block') {
      // Read-around (as the kernel's for a mapped file's fault): where blocks cost what reads do (the
      // only case planned 'block'), the neighbours come along while there is room, so a hot region fills
      // in a few misses.
      if (room()) for (const nb of [b - 1, b + 1]) if (nb >= 0 && nb * B < f.size && !this.#near(key, f, nb)) this.loadBlock(key, f, nb, source).catch(() => undefined);
      return undefined;
    }
    if (plan === 'range+fill') {
      f.source = source;
      this.admission.fillStarted(this.loadBlock(key, f, b, source));
    }
    f.accessCount++;
    const end = Math.min(f.size, position + length);
    this.host.cache.counters.backendReads++;
    const started = performance.now();
    return source(into, offset, end - position, position).then((n) => {
      this.admission.rangeRead(performance.now() - started);
      f.nextSequential = position + n;
      return n;
    }, fail);
  }

  /** True when block `b` of `f` is resident or loading. */
  #near(key: string, f: BlockedFile, b: number): boolean {
    return f.slots.has(b) || (this.pending.size !== 0 && this.pending.has(key + MARK + b));
  }

  /** The block a random read of `[position, position + length)` falls in when it is one block, neither resident nor loading; else -1. */
  #randomBlock(key: string, f: BlockedFile, position: number, length: number): number {
    const B = this.blockSize;
    const end = Math.min(f.size, position + length);
    if (position >= end || position === f.nextSequential) return -1;
    const b = Math.floor(position / B);
    if (b !== Math.floor((end - 1) / B) || this.#near(key, f, b)) return -1;
    return this.host.cache.store.admissible(Math.min(B, f.size - b * B)) ? b : -1;
  }

  private async loadRange(
    key: string, st: BackendStats | undefined, statStartedAt: number, into: Uint8Array, offset: number, length: number,
    position: number, source: ReadSource, knownSize: number,
  ): Promise<number> {
    const core = this.host.cache;
    const size = st !== undefined ? st.size : knownSize;
    let f = this.files.get(key);
    if (f === undefined || f.size !== size) {
      if (f !== undefined) this.dropFile(key);
      f = this.record(key, size, st, statStartedAt);
    }
    if (position >= size) return 0;
    const end = Math.min(size, position + length);
    const B = this.blockSize;
    if (!core.store.admissible(Math.min(B, size))) return this.direct(into, offset, end - position, position, source);
    f.source = source;
    const first = Math.floor(position / B);
    const last = Math.floor((end - 1) / B);
    const loaded: (Buffer | undefined)[] = [];
    const waits: Promise<void>[] = [];
    for (let b = first; b <= last; b++) {
      if (f.slots.has(b)) continue;
      waits.push(this.loadBlock(key, f, b, source).then((buf) => void (loaded[b - first] = buf)));
    }
    await Promise.all(waits);
    let n = 0;
    for (let b = first; b <= last; b++) {
      const from = Math.max(position, b * B) - b * B;
      const to = Math.min(end, (b + 1) * B) - b * B;
      const slot = this.files.get(key) === f ? f.slots.get(b) : undefined;
      // A block resident before the wait may have been evicted during it: read its part directly.
      const bytes = slot !== undefined ? core.store.view(slot) : loaded[b - first];
      if (bytes === undefined) {
        n += await this.direct(into, offset + n, to - from, b * B + from, source);
        continue;
      }
      if (from >= bytes.length) break; // the file shrank under us: a short read, as the kernel's
      n += bytes.copy(into, offset + n, from, Math.min(to, bytes.length));
    }
    f.accessCount++;
    this.sequential(key, f, position, end);
    return n;
  }

  /** Remembers that `key` is a large file of `size` bytes without caching any of it (a scan). */
  note(key: string, size: number): void {
    if (this.files.get(key)?.size === size) return;
    this.dropFile(key);
    this.record(key, size, undefined, 0);
  }

  /** Installs the blocks of a file read whole (`data` is the caller's: copied into the store). */
  async installAll(key: string, data: Uint8Array, st: BackendStats | undefined, statStartedAt: number): Promise<void> {
    const core = this.host.cache;
    let f = this.files.get(key);
    if (f === undefined || f.size !== data.length) {
      this.dropFile(key);
      f = this.record(key, data.length, st, statStartedAt);
    }
    const store = core.store;
    if (!store.admissible(Math.min(this.blockSize, data.length))) return;
    const B = this.blockSize;
    const now = Date.now();
    const expires = core.expiryFor(key, now);
    for (let b = 0; b * B < data.length; b++) {
      if (f.slots.has(b)) continue;
      const part = data.subarray(b * B, Math.min(data.length, (b + 1) * B));
      this.adopt(f, b, store.install(key + MARK + b, part, part.length, expires, now, false, f.slots.size === 0));
    }
    await core.enforceLimits();
  }

  // ---------------------------------------------------------------- for the engine

  /** Positional reads of `key` by path, when the backend has them. */
  pathSource(key: string): ReadSource | undefined {
    const backend = this.host.backend;
    if (backend.read === undefined) return undefined;
    return (into, offset, length, position) => backend.read!(key, into, offset, length, position);
  }

  /**
   * Called by a write of `key` (under its lock) before and after it runs, so that no block of it survives
   * the write: blocks are always clean, and one loaded while the write ran may hold the bytes from before it.
   */
  dropForWrite(key: string): void {
    if (this.files.size !== 0 && this.files.has(key)) {
      this.dropFile(key);
      this.host.cache.clock.stamp(key); // a block load in flight must not install what it read before the write
    }
  }

  // ---------------------------------------------------------------- internals

  /** @internal A fresh record of `key` (see newBlockedFile). */
  record(key: string, size: number, st: BackendStats | undefined, statStartedAt: number): BlockedFile {
    // Bounded: records of files whose blocks all left are kept only to know a file is large.
    if (this.files.size > 10_000) {
      for (const [k, rec] of this.files) if (rec.slots.size === 0) this.files.delete(k);
    }
    const f = newBlockedFile(size, st, statStartedAt);
    this.files.set(key, f);
    return f;
  }

  private adopt(f: BlockedFile, b: number, slot: number): void {
    if (f.slots.size === 0) this.filesWithBlocks++;
    if (!f.slots.has(b)) this.blockEntries++;
    f.slots.set(b, slot);
    this.#recount();
  }

  /**
   * Block `b` of `key` from the backend, installed unless the file changed meanwhile. Concurrent
   * callers share one read. The returned bytes stay valid until the next turn of the event loop.
   */
  private loadBlock(key: string, f: BlockedFile, b: number, source: ReadSource): Promise<Buffer> {
    const bk = key + MARK + b;
    const running = this.pending.get(bk);
    if (running !== undefined) return running;
    const promise = this.readBlock(key, bk, f, b, source);
    this.pending.set(bk, promise);
    const done = (): void => void this.pending.delete(bk);
    promise.then(done, done);
    return promise;
  }

  private async readBlock(key: string, bk: string, f: BlockedFile, b: number, source: ReadSource): Promise<Buffer> {
    const core = this.host.cache;
    const store = core.store;
    const bytes = store.bytes;
    const ticket = core.clock.begin();
    const B = this.blockSize;
    const len = Math.min(B, f.size - b * B);
    const buf = bytes.allocate(len);
    let n = 0;
    try {
      const started = performance.now();
      try {
        do {
          const got = await source(buf, n, len - n, b * B + n);
          if (got <= 0) break;
          n += got;
        } while (n < len);
      } catch (err) {
        bytes.release(buf);
        throw err;
      }
      core.counters.backendReads++;
      this.host.loader.recordRead(key, started, n);
      this.admission.blockLoaded(performance.now() - started);
      bytes.hold(buf);
      setImmediate(() => bytes.unhold(buf));
      if (n === len && this.files.get(key) === f && core.clock.mayInstall(key, ticket) && !core.closed && store.lookup(key) < 0) {
        const now = Date.now();
        const slot = store.install(bk, buf, n, core.expiryFor(key, now), now, true, f.slots.size === 0);
        this.adopt(f, b, slot);
        await core.enforceLimits();
      } else {
        bytes.release(buf);
        if (n < len && this.files.get(key) === f) this.dropFile(key); // shorter than known: the file changed
      }
      return buf.length === n ? buf : buf.subarray(0, n);
    } finally {
      core.clock.end();
    }
  }

  /** Reads a range straight from the source (nothing cached): a cache smaller than one block. */
  private direct(into: Uint8Array, offset: number, length: number, position: number, source: ReadSource): Promise<number> {
    this.host.cache.counters.backendReads++;
    return source(into, offset, length, position);
  }

  /** Bounded read-ahead for a reader that continues where it stopped. */
  private sequential(key: string, f: BlockedFile, position: number, end: number): void {
    const isSequential = position === f.nextSequential;
    f.nextSequential = end;
    if (!isSequential || f.source === undefined) return;
    const B = this.blockSize;
    const current = Math.floor((end - 1) / B);
    if (current === f.aheadFrom) return;
    f.aheadFrom = current;
    const source = f.source;
    for (let b = current + 1; b <= current + READ_AHEAD_BLOCKS && b * B < f.size; b++) {
      if (f.slots.has(b)) continue;
      this.loadBlock(key, f, b, source).catch(() => undefined); // read-ahead is a hint: the read itself reports errors
    }
  }
}
