import type { Backend, BackendStats } from '../backend/backend.js';
import { BLOCK_MARK, type BlockIndex } from '../cache/block-keys.js';
import type { Cache } from '../cache/cache.js';
import { COARSE_RACY_WINDOW_MS, RACY_WINDOW_MS } from '../cache/identity.js';
import type { InstallSource } from '../cache/ports.js';
import { asCallError } from '../errors.js';

/**
 * Block size, chosen by `npm run bench -- cold` on this machine (see docs/blocks.md): 64 KiB costs an
 * uncached 4 KiB read about what 16 KiB does (the thread-pool round trip dominates, not the copy) and
 * warms a hot region four times faster.
 */
export const DEFAULT_BLOCK_SIZE = 64 * 1024;
/** Files larger than this are cached in blocks; smaller ones whole, as before. */
export const DEFAULT_BLOCK_THRESHOLD = 1024 * 1024;
/**
 * A whole-file read of a block-cached file larger than `maxBytes / SCAN_DIVISOR` is served without
 * admitting its blocks: a scan must not flush the hot set (scan resistance).
 */
export const SCAN_DIVISOR = 4;
/** Blocks read ahead of a sequential reader. */
const READ_AHEAD_BLOCKS = 4;
/** Blocks remembered per file as touched once (the doorkeeper), before the memory is started over. */
const MAX_SEEN = 1 << 16;

const MARK = BLOCK_MARK;

/** Errors of a `stat` that mean the file is no longer there. */
function isGone(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** What the block cache needs of the engine that owns it (an interface, so no import runs back up). */
export interface BlockHost {
  readonly cache: Cache;
  readonly backend: Backend;
  /** Loads record the file's identity for revalidation (revalidate or watch on). */
  readonly capturesIdentity: boolean;
  readonly revalidator: { stat(key: string, follow: boolean, revalidation: boolean): Promise<BackendStats> };
  readonly loader: { recordRead(key: string, started: number, bytes: number): void };
}

/** Where a block's bytes come from: a handle's open backend file, or the backend by path. */
export type ReadSource = (into: Uint8Array, offset: number, length: number, position: number) => Promise<number>;

/** What the cache knows of one block-cached file. */
interface BlockedFile {
  size: number;
  /** Resident blocks: block index to store slot. */
  readonly slots: Map<number, number>;
  validatedAt: number;
  /** The backend's identity when the blocks' source was first read (NaN mtime: unknown, reload at the next check). */
  idSize: number;
  idMtime: number;
  idCtime: number;
  idIno: number;
  /** Where the last read ended: a read that starts there is sequential and earns read-ahead. */
  nextSequential: number;
  /** The last block a sequential reader touched, so read-ahead is started once per block. */
  aheadFrom: number;
  accessCount: number;
  /** The last way this file was read, for read-ahead started from a hit. */
  source: ReadSource | undefined;
  /** Blocks a random read touched once without loading them: the next touch loads. */
  readonly seen: Set<number>;
}

/**
 * Large files in fixed-size blocks, each block an entry of the one data store (same `maxBytes`, policy
 * and pool) under the key `path NUL # index`. Blocks are only ever clean: every write to a file drops its
 * blocks before and after it runs (`CacheCore` calls {@link dropFile}), so dirty data always lives in a
 * whole-file entry, which reads prefer; write-back keeps its whole-file behaviour (see docs/blocks.md).
 *
 * Counting: one call counts one hit (every byte it needed was resident) or one miss, never one per block.
 */
export class BlockCache implements BlockIndex {
  /** Block size in bytes (tests lower it, through the internal `blockSize` option). */
  blockSize = DEFAULT_BLOCK_SIZE;
  /** Files larger than this are cached in blocks. */
  threshold = DEFAULT_BLOCK_THRESHOLD;
  readonly files = new Map<string, BlockedFile>();
  /** Resident block entries (the store counts each; `entries` counts files). */
  blockEntries = 0;
  /** Files with at least one resident block. */
  filesWithBlocks = 0;
  private readonly pending = new Map<string, Promise<Buffer>>();

  constructor(private readonly host: BlockHost) {}

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
    }
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

  private copyResident(key: string, f: BlockedFile, into: Uint8Array, offset: number, length: number, position: number): number {
    const core = this.host.cache;
    const store = core.store;
    const size = f.size;
    const end = Math.min(size, position + length);
    const B = this.blockSize;
    if (position < end) {
      let now = 0;
      for (let b = Math.floor(position / B); b * B < end; b++) {
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
  async readAt(key: string, into: Uint8Array, offset: number, length: number, position: number, userPath: string, source: ReadSource): Promise<number> {
    const core = this.host.cache;
    let f = this.files.get(key)!;
    if (core.revalidateAfter >= 0 && Date.now() - f.validatedAt >= core.revalidateAfter) {
      const askedAt = Date.now();
      let st: BackendStats;
      try {
        st = await this.host.revalidator.stat(key, true, true);
      } catch (err) {
        if (isGone(err)) {
          core.counters.changesDetected++;
          this.dropFile(key);
          core.metadataChanged(key);
        }
        throw asCallError(err, 'read', userPath);
      }
      const now = this.files.get(key);
      if (now !== f || !this.sameIdentity(f, st)) {
        if (now === f) {
          core.counters.changesDetected++;
          this.dropFile(key);
        }
        core.counters.misses++;
        return this.loadAt(key, st, askedAt, into, offset, length, position, source, userPath);
      }
      f.validatedAt = askedAt;
    }
    const n = this.copyResident(key, f, into, offset, length, position);
    if (n >= 0) return n;
    core.counters.misses++;
    f = this.files.get(key) ?? f;
    return this.loadAt(key, undefined, 0, into, offset, length, position, source, userPath, f.size);
  }

  /**
   * A miss (already counted) of a file cached in blocks: loads the blocks the range touches (sharing
   * loads in flight), copies from them, and reads ahead when the access is sequential. `st` is the
   * backend's stat taken (at `statStartedAt`) before any byte was read, or undefined when the record
   * already knows the size.
   */
  async loadAt(
    key: string, st: BackendStats | undefined, statStartedAt: number, into: Uint8Array, offset: number, length: number,
    position: number, source: ReadSource, userPath: string, knownSize = -1,
  ): Promise<number> {
    try {
      return await this.loadRange(key, st, statStartedAt, into, offset, length, position, source, knownSize);
    } catch (err) {
      throw asCallError(err, 'read', userPath);
    }
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
    if (first === last && position !== f.nextSequential && !f.seen.has(first) && !this.pending.has(key + MARK + first)) {
      // A random read's first touch of a block reads just its range: a block is admitted on its second
      // touch, so reads spread over a file much larger than the cache cost what the backend's read costs
      // and flush nothing, while a hot region is cached from its second pass (a doorkeeper, as TinyLFU's).
      if (f.seen.size >= MAX_SEEN) f.seen.clear();
      f.seen.add(first);
      const n = await this.direct(into, offset, end - position, position, source);
      f.accessCount++;
      f.nextSequential = position + n;
      return n;
    }
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

  /**
   * `readFile` of a file known to be block-cached, its hit half: assembled from resident blocks, or
   * undefined. Else the file is read
   * whole from the backend (a miss), its blocks admitted only when the file is small enough that it
   * cannot flush the hot set. The returned buffer is fresh and the caller's.
   */
  wholeHit(key: string): Buffer | undefined {
    const core = this.host.cache;
    const f = this.files.get(key)!;
    if (f.slots.size > 0 && (core.revalidateAfter < 0 || Date.now() - f.validatedAt < core.revalidateAfter)) {
      const out = Buffer.allocUnsafe(f.size);
      if (this.copyResident(key, f, out, 0, f.size, 0) === f.size) return out;
    }
    return undefined;
  }

  /** The miss half of a whole-file read of a file known to be block-cached (counts the miss). */
  readWhole(key: string, userPath: string, source: ReadSource): Promise<Buffer> {
    this.host.cache.counters.misses++;
    return this.loadWhole(key, this.files.get(key)?.size ?? 0, userPath, source);
  }

  /** Remembers that `key` is a large file of `size` bytes without caching any of it (a scan). */
  note(key: string, size: number): void {
    if (this.files.get(key)?.size === size) return;
    this.dropFile(key);
    this.record(key, size, undefined, 0);
  }

  /**
   * Reads a whole file of about `sizeHint` bytes into a fresh buffer (a file that grew is read again
   * whole) and, unless it is a scan (larger than `maxBytes / SCAN_DIVISOR`), installs its blocks.
   */
  async loadWhole(key: string, sizeHint: number, userPath: string, source: ReadSource): Promise<Buffer> {
    const core = this.host.cache;
    const ticket = core.clock.begin();
    const statStartedAt = Date.now();
    try {
      let st: BackendStats | undefined;
      if (this.host.capturesIdentity) st = await this.host.revalidator.stat(key, true, true);
      const size = st?.size ?? sizeHint;
      const out = Buffer.allocUnsafe(size + 1);
      let n = 0;
      const started = performance.now();
      try {
        for (;;) {
          const got = await source(out, n, out.length - n, n);
          if (got <= 0) break;
          n += got;
          if (n === out.length) break;
        }
      } catch (err) {
        throw asCallError(err, 'read', userPath);
      }
      core.counters.backendReads++;
      this.host.loader.recordRead(key, started, n);
      if (n === out.length) {
        // It grew since its size was learnt: read it again whole, cache nothing.
        this.dropFile(key);
        const whole = await this.host.backend.readFile(key).catch((err: unknown) => {
          throw asCallError(err, 'open', userPath);
        });
        return Buffer.from(whole);
      }
      const data = out.subarray(0, n);
      const maxBytes = core.store.maxBytes;
      if (core.clock.mayInstall(key, ticket) && !core.closed && core.store.lookup(key) < 0 && (maxBytes === 0 || n <= maxBytes / SCAN_DIVISOR)) {
        await this.installAll(key, data, st, statStartedAt, ticket);
      } else if (this.files.get(key)?.size !== n) {
        this.dropFile(key);
        if (this.wants(n)) this.record(key, n, st, statStartedAt);
      }
      return data;
    } finally {
      core.clock.end();
    }
  }

  /** Installs the blocks of a file read whole (`data` is the caller's: copied into the store). */
  async installAll(key: string, data: Uint8Array, st: BackendStats | undefined, statStartedAt: number, ticket = -1): Promise<void> {
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
      this.adopt(f, key, b, store.install(key + MARK + b, part, part.length, expires, now));
    }
    void ticket;
    await core.enforceLimits();
  }

  // ---------------------------------------------------------------- internals

  private record(key: string, size: number, st: BackendStats | undefined, statStartedAt: number): BlockedFile {
    // Bounded: records of files whose blocks all left are kept only to know a file is large.
    if (this.files.size > 10_000) {
      for (const [k, rec] of this.files) if (rec.slots.size === 0) this.files.delete(k);
    }
    const f: BlockedFile = {
      size, slots: new Map(), validatedAt: statStartedAt || Date.now(),
      idSize: NaN, idMtime: NaN, idCtime: NaN, idIno: NaN,
      nextSequential: -1, aheadFrom: -1, accessCount: 0, source: undefined, seen: new Set(),
    };
    if (st !== undefined) {
      const window = st.mtimeMs % 1000 === 0 ? COARSE_RACY_WINDOW_MS : RACY_WINDOW_MS;
      if (st.mtimeMs < statStartedAt - window) {
        f.idSize = st.size;
        f.idMtime = st.mtimeMs;
        f.idCtime = st.ctimeMs;
        f.idIno = st.ino;
      }
    }
    this.files.set(key, f);
    return f;
  }

  private sameIdentity(f: BlockedFile, st: BackendStats): boolean {
    return f.idMtime === st.mtimeMs && f.idSize === st.size && f.idCtime === st.ctimeMs && f.idIno === st.ino;
  }

  private adopt(f: BlockedFile, key: string, b: number, slot: number): void {
    void key;
    if (f.slots.size === 0) this.filesWithBlocks++;
    if (!f.slots.has(b)) this.blockEntries++;
    f.slots.set(b, slot);
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
      bytes.hold(buf);
      setImmediate(() => bytes.unhold(buf));
      if (n === len && this.files.get(key) === f && core.clock.mayInstall(key, ticket) && !core.closed && store.lookup(key) < 0) {
        const now = Date.now();
        const slot = store.install(bk, buf, n, core.expiryFor(key, now), now, true);
        this.adopt(f, key, b, slot);
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
