import type { Backend, BackendStats } from '../backend/backend.js';
import type { CoherencePort } from '../cache/ports.js';
import { asCallError } from '../errors.js';
import { identityMatches, isGone } from '../cache/identity.js';
import { ChurnMap } from '../util/churn-map.js';

/** Returned by the engine's `hitSlot` for a resident entry that must be checked against the backend first. */
export const REVALIDATE = -2;

/**
 * A backend `stat` (or `lstat`) in flight, shared by the callers that arrive while it runs. Its first
 * handler (attached by whoever started it, so it runs before any joiner's) must call
 * {@link Revalidator.landed} before using the answer.
 */
export class StatFlight {
  // `declare`: the constructor's stores are the only initialization (field declarations compile to a
  // function of their own, called per flight, that defines each field first).
  declare readonly promise: Promise<BackendStats>;
  declare readonly key: string;
  declare readonly follow: boolean;
  /** The mutation clock's epoch when the stat started: a caller arriving after a change must not join. */
  declare readonly ticket: number;
  /** When it was asked (epoch ms) while metadata is revalidated, else -1. */
  declare readonly startedAt: number;
  /** Until {@link Revalidator.landed}: registered, and counted as a load in flight by the mutation clock. */
  declare live: boolean;

  constructor(promise: Promise<BackendStats>, key: string, follow: boolean, ticket: number, startedAt: number) {
    this.promise = promise;
    this.key = key;
    this.follow = follow;
    this.ticket = ticket;
    this.startedAt = startedAt;
    this.live = true;
  }
}

/** How a dirty entry's external change was noticed (the `'conflict'` event's `detectedBy`). */
export type ConflictSource = 'revalidate' | 'watch';

/** Payload of the `'conflict'` event: the program's dirty data won over an external change of `path`. */
export interface ConflictEvent {
  path: string;
  detectedBy: ConflictSource;
  /** True when the file had been deleted (the flush recreates it). */
  deleted: boolean;
}

/**
 * Revalidation: before a cached entry older than `revalidate` is used, the backend's cheap identity of
 * the file (size, mtime, ctime, inode) is compared with the one recorded when the entry was loaded.
 * Unchanged: the entry is served (a hit). Changed: it is dropped and reloaded (a miss). Gone: it is
 * dropped and the read fails with `ENOENT`. Concurrent checks of one path share one backend `stat`.
 *
 * Dirty entries (write-back) are never reloaded: the program's acknowledged write wins. When their file
 * changed behind the cache, a `'conflict'` event is emitted and the dirty data is flushed over it at once.
 *
 * Cached metadata obeys the same age rule: a `stat` result older than `revalidate` is fetched again.
 */
export class Revalidator {
  /** Stats and lstats in flight, by key (two maps: no key string made per call to tell them apart). */
  private readonly stats = new ChurnMap<string, StatFlight>();
  private readonly lstats = new ChurnMap<string, StatFlight>();
  /** When each cached `stat` result was fetched (its start), so that metadata ages like data. */
  private readonly fetchedAt = new WeakMap<BackendStats, number>();

  constructor(
    private readonly core: CoherencePort,
    private readonly backend: Backend,
  ) {
    // A flush rewrote the file: the identity recorded at load no longer describes it, and the new one
    // is not known without a race (see captureIdentity). Unknown means: reload at the next check.
    core.events.on('flush', (e: { path: string }) => {
      const slot = core.store.lookup(e.path);
      if (slot >= 0) core.store.clearIdentity(slot);
    });
  }

  /**
   * The backend's `stat` (or `lstat`) of `key`, shared with callers already waiting for one that
   * started after the last change of `key`. While metadata is revalidated, every result remembers when
   * it was asked for; otherwise none does (the WeakMap store costs as much as the rest of the call), and
   * should revalidation start later (a watcher down) such a result counts as stale, the safe side. A
   * stat made to check something already cached (`revalidation`) counts in `revalidations`, once per
   * backend call.
   */
  stat(key: string, follow: boolean, revalidation: boolean): Promise<BackendStats> {
    const running = this.joinable(key, follow);
    if (running !== undefined) return running.promise;
    const flight = this.start(key, follow, revalidation);
    const landed = (st?: BackendStats): void => this.landed(flight, st);
    flight.promise.then(landed, () => landed());
    return flight.promise;
  }

  /**
   * {@link stat} for a caller that handles the answer at once: the flight it joined or started, whose
   * promise it must `then` before it returns, its handler calling {@link landed} first. A first `stat`
   * (engine/cold.ts) saves the separate settling reaction that way, one of the few steps it adds to the
   * backend's own call.
   */
  flight(key: string, follow: boolean, revalidation: boolean): StatFlight {
    // joinable() by hand: a first stat pays each call in the interpreter.
    const running = (follow ? this.stats : this.lstats).get(key);
    return running !== undefined && this.core.clock.mayInstall(key, running.ticket) ? running : this.start(key, follow, revalidation);
  }

  /**
   * The answer of `flight` arrived (`st`, or undefined for an error): it is no longer joined, and while
   * metadata is revalidated its result remembers when it was asked for. Only the first call counts.
   */
  landed(flight: StatFlight, st: BackendStats | undefined): void {
    if (!flight.live) return;
    flight.live = false;
    if (st !== undefined && flight.startedAt >= 0) this.fetchedAt.set(st, flight.startedAt);
    const flights = flight.follow ? this.stats : this.lstats;
    if (flights.get(flight.key) === flight) flights.delete(flight.key);
    this.core.clock.end();
  }

  /** The flight of `key` that a caller arriving now may share: none once the program changed `key` since it started. */
  private joinable(key: string, follow: boolean): StatFlight | undefined {
    const running = (follow ? this.stats : this.lstats).get(key);
    return running !== undefined && this.core.clock.mayInstall(key, running.ticket) ? running : undefined;
  }

  /** Asks the backend; the caller attaches the handler that calls {@link landed}. */
  private start(key: string, follow: boolean, revalidation: boolean): StatFlight {
    if (revalidation) this.core.counters.revalidations++;
    const startedAt = this.core.revalidateAfter < 0 ? -1 : Date.now();
    const backend = this.backend;
    // Asked before the ticket is taken: a backend that throws at once leaves no load in flight behind.
    const asked = follow ? backend.stat(key) : backend.lstat(key);
    const flight = new StatFlight(asked, key, follow, this.core.clock.begin(), startedAt);
    (follow ? this.stats : this.lstats).set(key, flight);
    return flight;
  }

  /** True when a cached `stat` result may still be used without asking the backend. */
  metadataFresh(st: BackendStats): boolean {
    const after = this.core.revalidateAfter;
    if (after < 0) return true;
    const at = this.fetchedAt.get(st);
    return at !== undefined && Date.now() - at < after;
  }

  /**
   * Checks the resident entry of `key` against the backend (`hitSlot` returned {@link REVALIDATE}).
   * Returns its slot, counting a hit, when it may be served; -1 when the caller must load (a miss).
   * Rejects with the backend's error, as the read's own (`syscall`, `userPath`), when the file is gone
   * (the entry is dropped) or cannot be checked (the entry stays).
   */
  async revalidate(key: string, syscall: string, userPath: string): Promise<number> {
    const slot = await this.verify(key, syscall, userPath);
    if (slot >= 0) {
      this.core.store.touch(slot, 0);
      this.core.counters.hits++;
    }
    return slot;
  }

  /**
   * Before the program patches a resident clean entry in place (a positional write, an append, a
   * truncate), makes sure it is not stale: a patch applied to outdated bytes would be written back (or
   * kept) as if it were the file. A changed or vanished file's entry is dropped, so the write starts
   * from the backend. Errors are left to the write itself.
   */
  async beforePatch(key: string): Promise<void> {
    const core = this.core;
    const after = core.revalidateAfter;
    if (after < 0) return;
    const store = core.store;
    const slot = store.lookup(key);
    if (slot < 0 || store.isDirty(slot) || Date.now() - store.validatedAt(slot) < after) return;
    await this.verify(key, 'open', key).catch(() => undefined);
  }

  /**
   * A watch event named the dirty entry of `key`: checks its file against the identity it had when the
   * entry was loaded. Never rejects.
   */
  async checkDirtyAfterEvent(key: string): Promise<void> {
    const core = this.core;
    let st: BackendStats | undefined;
    let failure: unknown;
    try {
      st = await this.stat(key, true, true);
    } catch (err) {
      failure = err;
    }
    const slot = core.store.lookup(key);
    if (slot >= 0 && core.store.isDirty(slot)) this.checkDirty(key, slot, st, failure, 'watch');
  }

  // ---------------------------------------------------------------- internals

  /** {@link revalidate} without counting a hit: the slot to serve, or -1 to load. */
  private async verify(key: string, syscall: string, userPath: string): Promise<number> {
    const core = this.core;
    const store = core.store;
    const ticket = core.clock.begin();
    const askedAt = Date.now();
    let st: BackendStats | undefined;
    let failure: unknown;
    let undisturbed: boolean;
    try {
      st = await this.stat(key, true, true);
    } catch (err) {
      failure = err;
    } finally {
      // Asked before end(): the clock forgets its stamps once nothing is in flight.
      undisturbed = core.clock.mayInstall(key, ticket);
      core.clock.end();
    }
    const slot = store.lookup(key);
    if (slot < 0) return -1;
    if (store.isDirty(slot)) {
      this.checkDirty(key, slot, st, failure, 'revalidate');
      store.setValidatedAt(slot, askedAt);
      return slot;
    }
    // The program changed the path while we asked: the answer may describe the version before.
    if (!undisturbed) return -1;
    if (failure !== undefined) {
      if (isGone(failure)) this.vanished(key);
      throw asCallError(failure, syscall, userPath);
    }
    if (identityMatches(store, slot, st!)) {
      store.setValidatedAt(slot, askedAt);
      return slot;
    }
    if (store.hasIdentity(slot)) core.counters.changesDetected++;
    core.invalidate({ path: key }, 'keep');
    core.announce(key, 'change');
    return -1;
  }

  /** The file of a clean entry is gone: drop the entry and its metadata (the parent's listing changed). */
  private vanished(key: string): void {
    const core = this.core;
    core.counters.changesDetected++;
    core.metadataChanged(key);
    core.invalidate({ path: key }, 'keep');
  }

  /**
   * The conflict rule: a dirty entry whose file changed (or vanished) behind the cache keeps its data,
   * which is flushed over the external change at once; `'conflict'` `{ path, detectedBy, deleted }` says
   * so. Only files whose identity is known can be judged: those the cache loaded before the program
   * changed them, until their first flush. A flush of the path in flight is our own change, not one.
   */
  private checkDirty(key: string, slot: number, st: BackendStats | undefined, failure: unknown, source: ConflictSource): void {
    const core = this.core;
    const store = core.store;
    if (!store.hasIdentity(slot) || core.dirtyData?.isFlushing(key)) return;
    const deleted = failure !== undefined && isGone(failure);
    if (!deleted && (st === undefined || identityMatches(store, slot, st))) return;
    core.counters.changesDetected++;
    // Report each external change once: from now on the changed file is the base to compare with.
    if (st !== undefined) store.setIdentity(slot, st.size, st.mtimeMs, st.ctimeMs, st.ino);
    else store.clearIdentity(slot);
    core.meta.delete(key);
    const event: ConflictEvent = { path: key, detectedBy: source, deleted };
    core.events.emit('conflict', event);
    // The whole file, not the dirty ranges: those describe changes to a copy the backend no longer has.
    core.dirtyData?.flushWhole(key).catch(() => undefined); // a failure is reported as 'flushError'
  }
}
