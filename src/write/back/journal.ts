import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Backend } from '../../backend/backend.js';
import { FsError, hasCode } from '../../errors.js';
import { isWithin } from '../../paths.js';
import { syncDirectory, writeAll, writeAllSync } from './journal-io.js';
import { acquireLock, JournalError, releaseLock } from './journal-lock.js';
import { isClean, type Append, type Segment } from './journal-segment.js';

export { JournalError } from './journal-lock.js';
import { decodeSegment, encodeRecord, encodeRecordParts, NotASegmentError, SEGMENT_MAGIC, type JournalRecord } from './journal-format.js';
import { applyReplay, planReplay, renameHappened, type ReplayOutcome } from './journal-replay.js';

/** A segment this large takes no more records; a new one is started. */
const DEFAULT_SEGMENT_BYTES = 4 * 1024 * 1024;
/**
 * When every record of the segment being appended to is flushed and it has grown past this, appends move
 * to a new segment so that this one can be deleted: an idle cache keeps at most this much journal.
 */
const ROLL_WHEN_CLEAN_BYTES = 64 * 1024;
const SEGMENT_FILE = /^(\d{16})\.cfj$/;

const noop = (): void => undefined;
const RESOLVED = Promise.resolve();
const fdatasyncAsync = promisify(fs.fdatasync);
const closeAsync = promisify(fs.close);
const openAsync = promisify(fs.open);

/** Construction options of a {@link Journal}. */
export interface JournalOptions {
  /** fsync (fdatasync) after each append. */
  sync: boolean;
  /** Size at which a new segment is started (tests use small ones). */
  segmentBytes?: number;
}

/**
 * The write-back journal: a directory of segment files where every write-back mutation is appended
 * (see `journal-format.ts`) before the call that made it resolves, so that data acknowledged to the
 * program survives the death of the process, and is written to the backend by the next `CacheFS` opened
 * on the same directory ({@link replay}).
 *
 * Without `sync`, a record is written with a synchronous `write(2)` before the append returns: the
 * bytes are in the kernel, which keeps them if the process is killed, and that costs a few µs where a
 * round trip through libuv's thread pool costs about 20 (see `bench/journal-latency.ts`). With `sync`,
 * records are queued and written in order by an asynchronous loop; appends that arrive while a write
 * and its fdatasync are in progress go out together in the next one (group commit). Either way a
 * record's promise resolves once its bytes are in the file (and on disk, with `sync`).
 *
 * Compaction: each segment remembers which files have records in it that no flush has covered. When the
 * oldest segment depends on nothing, it is deleted; a segment that fills up, or that is clean and has
 * grown past 64 KiB, makes the next append start a new one. So the journal holds roughly what was written
 * since the last flush, plus one segment.
 *
 * One journal, one owner: a `LOCK` file holds the owner's pid; opening a journal whose owner is alive
 * fails with `ERR_CACHEFS_JOURNAL_LOCKED`, and a lock left by a dead process is taken over.
 */
export class Journal {
  private nextLsn = 1;
  private nextSegmentId = 1;
  /** Oldest first; the last is the one appends go to. */
  private readonly segments: Segment[] = [];
  private queue: Append[] = [];
  private draining: Promise<void> | undefined;
  /** The open segment file (descriptor) and its segment. */
  private fd: number | undefined;
  private fdSegment: Segment | undefined;
  /** Files with records not covered by a flush: path -> lsn of the last one (any segment). */
  private readonly latest = new Map<string, number>();
  private readonly intentSegments = new Map<number, Segment>();
  private lastAppend: Promise<void> = Promise.resolve();
  /** The compaction running now, if any. */
  private compacting: Promise<void> | undefined;
  private compactAgain = false;
  private replayFailed = false;
  private closed = false;
  /** What the last {@link replay} did (for diagnostics and tests). */
  lastReplay: ReplayOutcome | undefined;

  private constructor(
    /** The journal directory. */
    readonly dir: string,
    private readonly sync: boolean,
    private readonly segmentBytes: number,
  ) {}

  /**
   * Opens (creating it if needed) the journal directory and takes its lock. Synchronous, so that
   * `new CacheFS(...)` fails at once when the journal belongs to a live process.
   */
  static open(dir: string, options: JournalOptions): Journal {
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw hasCode(err) ? new FsError(err.code, 'mkdir', dir) : err;
    }
    acquireLock(dir);
    return new Journal(dir, options.sync, options.segmentBytes ?? DEFAULT_SEGMENT_BYTES);
  }

  // ---------------------------------------------------------------- replay

  /**
   * Writes the data of the journal's records that no flush covered to `backend` (following renames,
   * skipping removed files, never creating one), then deletes the old segments. Rejects with
   * `ERR_CACHEFS_JOURNAL_REPLAY` (and keeps every segment) when the backend refuses a file, and with
   * `ERR_CACHEFS_JOURNAL_CORRUPT` when a segment file is not a journal segment.
   */
  async replay(backend: Backend): Promise<ReplayOutcome> {
    const names = (await fsp.readdir(this.dir)).filter((n) => SEGMENT_FILE.test(n)).sort();
    const records: JournalRecord[] = [];
    for (const name of names) {
      const file = join(this.dir, name);
      let decoded;
      try {
        decoded = decodeSegment(await fsp.readFile(file));
      } catch (err) {
        if (!(err instanceof NotASegmentError)) throw err;
        this.replayFailed = true;
        throw new JournalError('ERR_CACHEFS_JOURNAL_CORRUPT', `cachefs: ${file} is not a journal segment; move it out of the journal directory`, file);
      }
      records.push(...decoded.records);
      this.nextSegmentId = Math.max(this.nextSegmentId, Number(SEGMENT_FILE.exec(name)![1]) + 1);
    }
    for (const r of records) this.nextLsn = Math.max(this.nextLsn, r.lsn + 1);
    const targets = await planReplay(records, (from) => renameHappened(backend, from));
    const outcome = await applyReplay(targets, backend);
    this.lastReplay = outcome;
    if (outcome.failed.length > 0) {
      this.replayFailed = true;
      const paths = outcome.failed.map((f) => f.path).join(', ');
      throw new JournalError(
        'ERR_CACHEFS_JOURNAL_REPLAY',
        `cachefs: replaying the journal in ${this.dir} failed for ${paths}; the journal is kept, open the cache again once the backend accepts writes`,
        this.dir,
        { errors: outcome.failed.map((f) => f.error) },
      );
    }
    for (const name of names) await fsp.rm(join(this.dir, name), { force: true });
    return outcome;
  }

  // ---------------------------------------------------------------- appends

  /** Journals that the whole content of `path` became `data`. */
  write(path: string, data: Uint8Array): Promise<void> {
    return this.appendData({ type: 'write', lsn: this.nextLsn++, path, data: data as Buffer });
  }

  /** Journals that `data` was written at `position` of `path`. */
  pwrite(path: string, position: number, data: Uint8Array): Promise<void> {
    return this.appendData({ type: 'pwrite', lsn: this.nextLsn++, path, position, data: data as Buffer });
  }

  /** Journals that the length of `path` became `length`. */
  truncate(path: string, length: number): Promise<void> {
    return this.appendData({ type: 'truncate', lsn: this.nextLsn++, path, length });
  }

  /** The lsn of the last data record of `path` not yet covered by a flush, if any. */
  latestLsn(path: string): number | undefined {
    return this.latest.get(path);
  }

  /** True when some file at or below `prefix` has journaled data no flush covered. */
  hasPendingWithin(prefix: string): boolean {
    for (const path of this.latest.keys()) if (isWithin(path, prefix)) return true;
    return false;
  }

  /** Journals that the backend holds every data record of `path` up to lsn `upTo`. */
  flushed(path: string, upTo: number): Promise<void> {
    const done = this.append({ type: 'flushed', lsn: this.nextLsn++, path, upTo });
    for (const segment of this.segments) {
      const last = segment.pending.get(path);
      if (last !== undefined && last <= upTo) segment.pending.delete(path);
    }
    const last = this.latest.get(path);
    if (last !== undefined && last <= upTo) this.latest.delete(path);
    this.compactSoon();
    return done;
  }

  /** Journals that a rename of `from` to `to` is about to be asked of the backend. */
  renameIntent(from: string, to: string): { lsn: number; written: Promise<void> } {
    const lsn = this.nextLsn++;
    const written = this.append({ type: 'renameIntent', lsn, from, to });
    const segment = this.active();
    segment.openIntents++;
    this.intentSegments.set(lsn, segment);
    return { lsn, written };
  }

  /**
   * Journals that `from` became `to` (call it where the cache moves its entries, in the same tick):
   * journaled data of `from` now belongs to `to`, and `to`'s earlier data is gone. `intent` is the
   * intent's lsn, or 0 when none was journaled.
   */
  renameDone(intent: number, from: string, to: string): Promise<void> {
    const done = this.append({ type: 'renameDone', lsn: this.nextLsn++, intent, from, to });
    this.resolveIntent(intent);
    this.forgetWithin(to);
    const moving = [...this.latest].filter(([path]) => isWithin(path, from));
    for (const [path, lsn] of moving) {
      this.latest.delete(path);
      this.latest.set(to + path.slice(from.length), lsn);
    }
    for (const segment of this.segments) {
      for (const [path, lsn] of [...segment.pending]) {
        if (!isWithin(path, from)) continue;
        segment.pending.delete(path);
        segment.pending.set(to + path.slice(from.length), lsn);
      }
    }
    this.compactSoon();
    return done;
  }

  /** Journals that the rename of intent `intent` failed. */
  renameAbort(intent: number): Promise<void> {
    const done = this.append({ type: 'renameAbort', lsn: this.nextLsn++, intent });
    this.resolveIntent(intent);
    this.compactSoon();
    return done;
  }

  /** Journals that the program removed `path` (and everything below it): its journaled data is moot. */
  removed(path: string): Promise<void> {
    const done = this.append({ type: 'removed', lsn: this.nextLsn++, path });
    this.forgetWithin(path);
    this.compactSoon();
    return done;
  }

  /** Resolves once every record appended so far has been written (whether or not it succeeded). */
  barrier(): Promise<void> {
    return this.lastAppend.then(noop, noop);
  }

  /**
   * Finishes pending appends and releases the lock. When no journaled data is left unflushed the segments
   * are deleted; otherwise (a replay that failed, data that never reached the backend) they stay for the
   * next owner.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.draining) await this.draining;
    await this.idle();
    await this.closeFile();
    if (!this.replayFailed && this.latest.size === 0 && this.intentSegments.size === 0) {
      for (const segment of this.segments) if (segment.created) await fsp.rm(segment.file, { force: true });
      this.segments.length = 0;
    }
    releaseLock(this.dir);
  }

  /**
   * Stops using the journal as a crash would: pending appends are dropped, the files stay as they are,
   * the lock is released. For tests that need "the process died here" without a second process.
   * @internal
   */
  async detach(): Promise<void> {
    this.closed = true;
    this.queue = [];
    while (this.draining) await this.draining;
    await this.closeFile();
    releaseLock(this.dir);
  }

  /** Resolves once no append is being written and no compaction runs (for close, tests and diagnostics). */
  async idle(): Promise<void> {
    while (this.draining || this.compacting) await (this.draining ?? this.compacting);
  }

  /** Bytes of segment files present now (for tests and diagnostics). */
  async sizeOnDisk(): Promise<number> {
    let total = 0;
    for (const name of await fsp.readdir(this.dir)) {
      if (SEGMENT_FILE.test(name)) total += (await fsp.stat(join(this.dir, name)).catch(() => ({ size: 0 }))).size; // deleted meanwhile
    }
    return total;
  }

  // ---------------------------------------------------------------- internals

  private appendData(record: Extract<JournalRecord, { type: 'write' | 'pwrite' | 'truncate' }>): Promise<void> {
    const done = this.append(record);
    this.latest.set(record.path, record.lsn);
    this.active().pending.set(record.path, record.lsn);
    return done;
  }

  private forgetWithin(prefix: string): void {
    for (const path of [...this.latest.keys()]) if (isWithin(path, prefix)) this.latest.delete(path);
    for (const segment of this.segments) {
      for (const path of [...segment.pending.keys()]) if (isWithin(path, prefix)) segment.pending.delete(path);
    }
  }

  private resolveIntent(intent: number): void {
    const segment = this.intentSegments.get(intent);
    if (segment) {
      segment.openIntents--;
      this.intentSegments.delete(intent);
    }
  }

  /** The segment appends go to now (started when there is none). */
  private active(): Segment {
    return this.segments[this.segments.length - 1] ?? this.startSegment();
  }

  private startSegment(): Segment {
    const id = this.nextSegmentId++;
    const segment: Segment = {
      id,
      file: join(this.dir, `${String(id).padStart(16, '0')}.cfj`),
      bytes: SEGMENT_MAGIC.length,
      pending: new Map(),
      openIntents: 0,
      queued: 0,
      created: false,
    };
    this.segments.push(segment);
    return segment;
  }

  /** Queues one record; the promise resolves when it is written (and synced, with `sync`). */
  private append(record: JournalRecord): Promise<void> {
    if (this.closed) {
      const closed = Promise.reject(Object.assign(new Error('cachefs: journal is closed'), { code: 'ERR_CACHEFS_CLOSED' }));
      closed.catch(noop);
      return closed;
    }
    const direct = !this.sync && this.draining === undefined;
    // Written at once, the data needs no copy; queued, it does (the caller may reuse its buffer).
    const parts = direct ? encodeRecordParts(record) : [encodeRecord(record), undefined] as const;
    const length = parts[0].length + (parts[1]?.length ?? 0);
    let segment = this.active();
    if (segment.bytes > SEGMENT_MAGIC.length && segment.bytes + length > this.segmentBytes) segment = this.startSegment();
    segment.bytes += length;
    if (direct) return this.writeNow(segment, parts[0], parts[1]);
    const buf = parts[0];
    segment.queued++;
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Callers await it; marking it handled keeps a caller that failed first from crashing the process.
    promise.catch(noop);
    this.queue.push({ buf, segment, resolve, reject });
    this.lastAppend = promise;
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
    return promise;
  }

  /** The synchronous path (without `sync`): the record is in the kernel when this returns. */
  private writeNow(segment: Segment, head: Buffer, data: Buffer | undefined): Promise<void> {
    try {
      if (this.fdSegment !== segment) this.openSegmentSync(segment);
      writeAllSync(this.fd!, head, data);
      this.lastAppend = RESOLVED;
      return RESOLVED;
    } catch (err) {
      this.sealAfterFailure(segment);
      const failed = Promise.reject(this.appendError(err, segment));
      failed.catch(noop);
      this.lastAppend = failed;
      return failed;
    }
  }

  private appendError(err: unknown, segment: Segment): unknown {
    return hasCode(err) ? Object.assign(new FsError(err.code, 'write', segment.file), { cause: err }) : err;
  }

  /** After a failed write the segment may end in a torn record: appends move to a new one. */
  private sealAfterFailure(segment: Segment): void {
    if (this.active() === segment) this.startSegment();
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const segment = this.queue[0]!.segment;
      let n = 1;
      while (n < this.queue.length && this.queue[n]!.segment === segment) n++;
      const batch = this.queue.splice(0, n);
      try {
        if (this.fdSegment !== segment) await this.openSegment(segment);
        await writeAll(this.fd!, batch.map((a) => a.buf));
        if (this.sync) await fdatasyncAsync(this.fd!);
        for (const a of batch) a.resolve();
      } catch (err) {
        const error = this.appendError(err, segment);
        for (const a of batch) a.reject(error);
        // The segment may now end in a torn record: what was queued behind it fails too, and appends
        // start a new segment (a replay reads each segment up to its first bad record).
        const behind = this.queue.filter((a) => a.segment === segment);
        this.queue = this.queue.filter((a) => a.segment !== segment);
        for (const a of behind) a.reject(error);
        segment.queued -= behind.length;
        this.sealAfterFailure(segment);
      } finally {
        segment.queued -= batch.length;
      }
      await this.compact();
    }
  }

  private async openSegment(segment: Segment): Promise<void> {
    await this.closeFile();
    const fd = await openAsync(segment.file, 'wx');
    this.fd = fd;
    this.fdSegment = segment;
    segment.created = true;
    await writeAll(fd, [SEGMENT_MAGIC]);
    if (this.sync) {
      await fdatasyncAsync(fd);
      await syncDirectory(this.dir);
    }
  }

  private openSegmentSync(segment: Segment): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    this.fdSegment = undefined;
    const fd = fs.openSync(segment.file, 'wx');
    this.fd = fd;
    this.fdSegment = segment;
    segment.created = true;
    writeAllSync(fd, SEGMENT_MAGIC);
  }

  private async closeFile(): Promise<void> {
    const fd = this.fd;
    this.fd = undefined;
    this.fdSegment = undefined;
    if (fd !== undefined) await closeAsync(fd).catch(noop);
  }

  /** Compaction after a record that may release segments (the drain loop compacts after each batch). */
  private compactSoon(): void {
    if (this.draining === undefined) void this.compact().catch(noop);
  }

  /** Deletes the oldest segments while nothing depends on them (one compaction at a time). */
  private compact(): Promise<void> {
    if (this.compacting) {
      this.compactAgain = true; // the running one looks again before it ends
      return this.compacting;
    }
    let done!: () => void;
    const running = new Promise<void>((resolve) => (done = resolve));
    this.compacting = running;
    void (async () => {
      try {
        do {
          this.compactAgain = false;
          await this.compactOnce();
        } while (this.compactAgain);
      } catch {
        // A segment that could not be deleted is tried again at the next compaction.
      } finally {
        this.compacting = undefined;
        done();
      }
    })();
    return running;
  }

  private async compactOnce(): Promise<void> {
    const active = this.segments[this.segments.length - 1];
    if (active && active.bytes > ROLL_WHEN_CLEAN_BYTES && isClean(active)) this.startSegment();
    while (this.segments.length > 1 && isClean(this.segments[0]!)) {
      const oldest = this.segments[0]!;
      if (oldest.created) await fsp.rm(oldest.file, { force: true });
      this.segments.shift();
    }
  }
}
