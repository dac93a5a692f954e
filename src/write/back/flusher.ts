import type { Backend } from '../../backend/backend.js';
import type { WritePort } from '../../cache/ports.js';
import { asCallError, hasCode } from '../../errors.js';
import { isWithin } from '../../paths.js';
import { DirtyRanges } from './dirty-ranges.js';
import type { Journal } from './journal.js';

/** First retry of a failed background flush after this long; doubles per failure, with jitter. */
const RETRY_BASE_MS = 100;
const RETRY_MAX_MS = 30_000;

const noop = (): void => undefined;

interface FailureState {
  attempts: number;
  nextAttemptAt: number;
}

/** How a flush of one path ended: written, nothing to write, or the entry is no longer there. */
type FlushResult = 'flushed' | 'clean' | 'gone';

/** What a flush writes: byte ranges at positions then an optional cut, or (without positional writes) the whole file. */
interface FlushPlan {
  chunks: Array<[position: number, bytes: Buffer]>;
  /** Set when the file was cut since the backend's copy: the backend's file is cut to it after the writes. */
  length: number | undefined;
  /** The whole content, for backends without positional `write`. */
  whole: Buffer | undefined;
  bytes: number;
}

/** Payload of the `'flush'` event. */
export interface FlushEvent {
  /** The backend path. */
  path: string;
  /** Bytes written to the backend by this flush (the dirty ranges, not the whole file). */
  bytes: number;
}

/** Payload of the `'flushError'` event. */
export interface FlushErrorEvent {
  /** The backend path. */
  path: string;
  /** The backend's error, with `code` (`EIO`, `ENOSPC`, …), `syscall: 'write'` and `path`. */
  error: unknown;
  /** Failed flushes of this path in a row. */
  attempts: number;
  /** When the background flusher tries again (ms from now; `undefined` without a background flusher). */
  retryInMs: number | undefined;
}

/**
 * Gets write-back's dirty data to the backend: what each dirty file owes ({@link DirtyRanges}), one
 * flush at a time per path, retries with backoff, the background timer, and the flushes of dirty
 * victims the store wants to evict.
 *
 * - Flushes of one path are serialized, so an older snapshot never lands after a newer one. Writes do
 *   not wait for flushes: a flush writes a snapshot and marks the entry clean only if no write happened
 *   meanwhile (the store's per-slot write sequence).
 * - A flush writes the dirty ranges (and cuts the file when it shrank). Writing whole files measured
 *   slower (see `bench/flush-strategy.ts`) and, with its truncate to 0, would leave nothing a replay could
 *   be applied to if the process died in the middle of it.
 * - Paths being renamed or removed are paused: their flushes wait (see `WriteBack.aroundNamespaceChange`).
 * - A failed flush leaves the entry dirty and resident (past the limits if need be) and is retried with
 *   exponential backoff and jitter; it is reported by the `'flushError'` event and by `flush()`.
 */
export class Flusher {
  /** Per path, the last flush queued (flushes of one path run one after the other). */
  private readonly chains = new Map<string, Promise<FlushResult>>();
  /** Flushes writing to the backend now (past the pause check): what a namespace change must wait for. */
  private readonly writing = new Map<string, Promise<void>>();
  private readonly failures = new Map<string, FailureState>();
  /** What changed in each dirty file since the backend's copy. Its keys are the dirty paths. */
  private readonly dirty = new Map<string, DirtyRanges>();
  /** Prefixes being renamed or removed: their flushes wait until {@link resume}. */
  private readonly paused = new Map<string, number>();
  private resumeWaiters: Array<() => void> = [];
  private intervalTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAt = Infinity;
  private backgroundRunning = false;

  constructor(
    private readonly cache: WritePort,
    private readonly backend: Backend,
    private readonly journal: Journal | undefined,
    private readonly flushInterval: number,
  ) {
    cache.store.onDirtyVictim = (slot) => this.evictDirty(slot);
    this.startTimer();
  }

  /** The ranges `key` owes the backend, created when it becomes dirty. */
  rangesOf(key: string): DirtyRanges {
    let ranges = this.dirty.get(key);
    if (ranges === undefined) {
      ranges = new DirtyRanges();
      this.dirty.set(key, ranges);
    }
    return ranges;
  }

  /** True while some path owes the backend data. */
  get hasDirty(): boolean {
    return this.dirty.size > 0;
  }

  // ---------------------------------------------------------------- flushing

  /**
   * Writes the dirty data of `key` to the backend. Rejects (and leaves the entry dirty) if the backend
   * fails. Serialized per path; waits while a rename or removal of the path is in progress.
   */
  async flushKey(key: string): Promise<void> {
    await this.chain(key);
  }

  /** Flushes every dirty entry (those `filter` accepts); AggregateError naming each path that failed. */
  async flushAll(filter?: (key: string) => boolean): Promise<void> {
    const first = [...this.dirty.keys()].filter((k) => !filter || filter(k));
    const results = await Promise.allSettled(first.map((k) => this.chain(k)));
    // A flush that waited for a rename finds its entry under the new name: flush those names too.
    if (results.some((r) => r.status === 'fulfilled' && r.value === 'gone')) {
      const seen = new Set(first);
      const moved = [...this.dirty.keys()].filter((k) => !seen.has(k) && (!filter || filter(k)));
      results.push(...(await Promise.allSettled(moved.map((k) => this.chain(k)))));
    }
    throwIfFailed(results);
  }

  /** Flushes the given keys (those that are dirty); AggregateError naming each path that failed. */
  async flushKeys(keys: Iterable<string>): Promise<void> {
    throwIfFailed(await Promise.allSettled([...new Set(keys)].map((k) => this.chain(k))));
  }

  /**
   * Flushes the whole file, not just its dirty ranges: the backend's copy changed behind the cache (a
   * conflict), so the ranges no longer describe the difference, and the program's data must replace it.
   */
  async flushWhole(key: string): Promise<void> {
    const store = this.cache.store;
    const slot = store.lookup(key);
    if (slot >= 0 && store.isDirty(slot)) this.dirty.get(key)?.replaced(store.size(slot));
    await this.chain(key);
  }

  /** True while a flush of `key` runs or waits to: the backend file is changing because of us (coherence asks). */
  isFlushing(key: string): boolean {
    return this.chains.has(key);
  }

  /** Stops the timers and waits for the flushes in flight (not for what is still dirty). */
  async stop(): Promise<void> {
    this.stopTimers();
    await Promise.all([...this.chains.values()].map((p) => p.catch(noop)));
  }

  /** Restarts the background timer after a failed close left the cache open. */
  restart(): void {
    this.startTimer();
    if (this.failures.size > 0) this.scheduleRetry();
  }

  // ---------------------------------------------------------------- namespace changes

  /** The program removed `key`, a dirty file: what it owed is moot. */
  forget(key: string): void {
    this.failures.delete(key);
    this.dirty.delete(key);
  }

  /** `from` became `to` in the backend and the store; dirty ranges and retry state move along. */
  renamed(from: string, to: string): void {
    const ranges = this.dirty.get(from);
    if (ranges) {
      this.dirty.delete(from);
      this.dirty.set(to, ranges);
    }
    const f = this.failures.get(from);
    if (f) {
      this.failures.delete(from);
      this.failures.set(to, f);
    }
  }

  /** Holds off flushes at or below `prefix`. */
  pause(prefix: string): void {
    this.paused.set(prefix, (this.paused.get(prefix) ?? 0) + 1);
  }

  /** Ends a {@link pause}; flushes that waited go on. */
  resume(prefix: string): void {
    const n = (this.paused.get(prefix) ?? 1) - 1;
    if (n > 0) {
      this.paused.set(prefix, n);
      return;
    }
    this.paused.delete(prefix);
    const waiters = this.resumeWaiters;
    this.resumeWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Waits for the flushes at or below `prefix` that are writing to the backend now. */
  async settleWithin(prefix: string): Promise<void> {
    const pending = [...this.writing.entries()].filter(([k]) => isWithin(k, prefix)).map(([, p]) => p.catch(noop));
    await Promise.all(pending);
  }

  // ---------------------------------------------------------------- internals

  private chain(key: string): Promise<FlushResult> {
    const previous = this.chains.get(key);
    const run = (async () => {
      if (previous) await previous.catch(noop);
      return this.flushOnce(key);
    })();
    this.chains.set(key, run);
    const cleanup = (): void => {
      if (this.chains.get(key) === run) this.chains.delete(key);
    };
    run.then(cleanup, cleanup);
    return run;
  }

  private isPaused(key: string): boolean {
    if (this.paused.size === 0) return false;
    for (const prefix of this.paused.keys()) if (isWithin(key, prefix)) return true;
    return false;
  }

  private async flushOnce(key: string): Promise<FlushResult> {
    const cache = this.cache;
    const store = cache.store;
    let slot: number;
    for (;;) {
      slot = store.lookup(key);
      if (slot < 0 || !store.isDirty(slot)) {
        this.dirty.delete(key);
        return slot < 0 ? 'gone' : 'clean';
      }
      if (!this.isPaused(key)) break;
      await new Promise<void>((wake) => this.resumeWaiters.push(wake));
    }
    // From here to the backend call nothing awaits: the snapshot, the fresh ranges for writes made
    // while it runs, and the registration that namespace changes wait for happen in one tick.
    const ranges = this.dirty.get(key) ?? wholeFile(store.size(slot));
    this.dirty.set(key, new DirtyRanges());
    const seq = store.writeSeq(slot);
    const mtimeMs = store.mtimeMs(slot);
    const upTo = this.journal?.latestLsn(key);
    const plan = this.plan(slot, ranges);
    const writing = this.writePlan(key, slot, plan, mtimeMs, upTo);
    this.writing.set(key, writing);
    try {
      await writing;
    } catch (err) {
      throw this.failed(key, ranges, err);
    } finally {
      if (this.writing.get(key) === writing) this.writing.delete(key);
    }
    cache.counters.flushCount++;
    this.failures.delete(key);
    cache.metadataChanged(key);
    const again = store.lookup(key);
    if (again === slot && store.writeSeq(again) === seq) {
      store.markClean(again);
      this.dirty.delete(key);
    }
    cache.events.emit('flush', { path: key, bytes: plan.bytes } satisfies FlushEvent);
    return 'flushed';
  }

  /** Copies out what a flush of `slot` must write (the slot's buffer may change while the backend works). */
  private plan(slot: number, ranges: DirtyRanges): FlushPlan {
    const store = this.cache.store;
    const size = store.size(slot);
    const buf = store.buffer(slot);
    if (!this.backend.write) {
      const whole = Buffer.allocUnsafeSlow(size);
      buf.copy(whole, 0, 0, size);
      return { chunks: [], length: undefined, whole, bytes: size };
    }
    let bytes = 0;
    const chunks: FlushPlan['chunks'] = ranges.list(size).map(([start, end]) => {
      const copy = Buffer.allocUnsafeSlow(end - start);
      buf.copy(copy, 0, start, end);
      bytes += copy.length;
      return [start, copy];
    });
    return { chunks, length: ranges.cut === Infinity ? undefined : size, whole: undefined, bytes };
  }

  private async writePlan(key: string, slot: number, plan: FlushPlan, mtimeMs: number, upTo: number | undefined): Promise<void> {
    const backend = this.backend;
    // Log before data: every write whose bytes are in this snapshot must be in the journal before the
    // backend gets them, so a crash in the middle of this flush leaves a file the replay can finish.
    if (this.journal) await this.journal.barrier();
    if (plan.whole) {
      await backend.writeFile(key, plan.whole);
    } else {
      try {
        for (const [position, bytes] of plan.chunks) await backend.write!(key, bytes, position);
        if (plan.length !== undefined) await backend.truncate(key, plan.length);
      } catch (err) {
        if (!hasCode(err) || err.code !== 'ENOENT') throw err;
        // The file is gone though the program did not remove it (renames and removals wait for
        // flushes): another process did. What the program wrote must still arrive: write it whole.
        const store = this.cache.store;
        const size = store.size(slot);
        const whole = Buffer.allocUnsafeSlow(size);
        store.buffer(slot).copy(whole, 0, 0, size);
        await backend.writeFile(key, whole);
      }
    }
    // The program saw mtime = time of its write; keep it so after the flush.
    await backend.utimes(key, mtimeMs, mtimeMs).catch(noop);
    if (this.journal && upTo !== undefined) await this.journal.flushed(key, upTo);
  }

  /** Keeps what a failed flush owed, arms the retry, reports; returns the error for the caller. */
  private failed(key: string, ranges: DirtyRanges, err: unknown): unknown {
    const cache = this.cache;
    cache.counters.flushErrors++;
    // What the failed flush should have written is still owed, under anything written since.
    const since = this.dirty.get(key) ?? new DirtyRanges();
    since.absorb(ranges);
    this.dirty.set(key, since);
    const failure = this.failures.get(key) ?? { attempts: 0, nextAttemptAt: 0 };
    failure.attempts++;
    const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (failure.attempts - 1)) * (0.5 + Math.random() / 2);
    failure.nextAttemptAt = Date.now() + delay;
    this.failures.set(key, failure);
    const slot = cache.store.lookup(key);
    if (slot >= 0 && cache.store.isParked(slot)) cache.store.unpark(slot);
    this.scheduleRetry();
    const error = asCallError(err, 'write', key);
    const event: FlushErrorEvent = {
      path: key,
      error,
      attempts: failure.attempts,
      retryInMs: this.intervalTimer ? Math.round(delay) : undefined,
    };
    cache.events.emit('flushError', event);
    return error;
  }

  /** The store wants this dirty slot gone: flush, then evict it if it is still clean and parked. */
  private async evictDirty(slot: number): Promise<void> {
    const store = this.cache.store;
    const key = store.key(slot);
    const failure = this.failures.get(key);
    if (failure && failure.nextAttemptAt > Date.now()) {
      // Backing off: stay resident (past the limit) rather than hammer a failing backend on every write.
      await Promise.resolve();
      const again = store.lookup(key);
      if (again >= 0 && store.isParked(again)) store.unpark(again);
      return;
    }
    try {
      await this.flushKey(key);
    } catch {
      return; // stays dirty and resident; the error went out as a 'flushError' event
    }
    const again = store.lookup(key);
    if (again < 0) return;
    if (!store.isDirty(again) && store.isParked(again)) {
      store.evictions++;
      store.remove(again, 'evicted');
    } else if (store.isParked(again)) {
      store.unpark(again);
    }
  }

  private startTimer(): void {
    const interval = this.flushInterval;
    if (!this.intervalTimer && interval > 0) {
      this.intervalTimer = setInterval(() => void this.background(), interval);
      this.intervalTimer.unref();
    }
  }

  private stopTimers(): void {
    if (this.intervalTimer) clearInterval(this.intervalTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.intervalTimer = undefined;
    this.retryTimer = undefined;
    this.retryAt = Infinity;
  }

  /** Arms one timer for the earliest retry due (only with a background flusher). */
  private scheduleRetry(): void {
    if (!this.intervalTimer) return;
    let earliest = Infinity;
    for (const f of this.failures.values()) if (f.nextAttemptAt < earliest) earliest = f.nextAttemptAt;
    if (earliest >= this.retryAt) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryAt = earliest;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.retryAt = Infinity;
      void this.background();
    }, Math.max(0, earliest - Date.now()));
    this.retryTimer.unref();
  }

  /** One background round: flush what is dirty and not backing off, then let limits catch up. */
  private async background(): Promise<void> {
    if (this.backgroundRunning || this.cache.closed) return;
    this.backgroundRunning = true;
    try {
      const now = Date.now();
      const due = [...this.dirty.keys()].filter((k) => {
        const f = this.failures.get(k);
        return !f || f.nextAttemptAt <= now;
      });
      await Promise.allSettled(due.map((k) => this.chain(k)));
      // Entries that stayed past the limits while their flushes failed can leave now.
      if (this.cache.store.overLimit()) await this.cache.enforceLimits().catch(noop);
    } finally {
      this.backgroundRunning = false;
      if (this.failures.size > 0) this.scheduleRetry();
    }
  }
}

function wholeFile(size: number): DirtyRanges {
  const ranges = new DirtyRanges();
  ranges.replaced(size);
  return ranges;
}

function throwIfFailed(results: PromiseSettledResult<unknown>[]): void {
  const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (errors.length > 0) {
    const paths = errors.map((e) => (e as { path?: string }).path ?? '?');
    throw new AggregateError(errors, `cachefs: flush failed for ${paths.join(', ')}`);
  }
}
