import type { InvalidateOptions, Scope } from '../cache/ports.js';
import type { DataStore } from '../store/data-store.js';
import type { MutationClock } from '../store/mutation-clock.js';
import { seqOf, type TierPort, type TierScope } from '../tier/port.js';
import { isWithin } from '../paths.js';

/** The counters the link updates (the engine's own, read through {@link TierHost.counters} each time). */
export interface TierCounters {
  hits: number;
  misses: number;
  tierHits: number;
  tierMisses: number;
  tierErrors: number;
}

/** What the link needs of the cache: its store, its install rule and its one way of forgetting. */
export interface TierHost {
  readonly store: DataStore;
  readonly clock: MutationClock;
  readonly counters: TierCounters;
  readonly closed: boolean;
  readonly events: {
    emit(event: string, payload?: unknown): boolean;
    on(event: string, listener: (payload: { path: string }) => void): unknown;
  };
  install(key: string, data: Uint8Array, size: number): Promise<void>;
  invalidate(scope: Scope, dirty: 'keep', options?: InvalidateOptions): number;
  forgetResolutions(): void;
}

/** Where the bytes of one read came from. */
interface Fetched {
  readonly bytes: Buffer;
  readonly fromTier: boolean;
  /** False when the tier was not asked (unreachable): neither a tier hit nor a tier miss. */
  readonly asked: boolean;
  /** The path's version the bytes belong to (undefined when the tier was not asked). */
  readonly version?: string | undefined;
}

/** A change another process made to a path, heard while this process was publishing its own change of it. */
interface HeldBack {
  readonly version: string | undefined;
  readonly content: Buffer | undefined;
}

/** A path whose change is being published here. */
interface Publishing {
  count: number;
  /** Removals (or replacements) of the path's entry since the publications began. */
  removals: number;
  /** The last change of the path heard meanwhile, applied once the publications' versions are known. */
  heard: HeldBack | undefined;
}

/**
 * The engine's side of the shared tier: reads that miss this process's cache go to Redis, then (under
 * the cross-process lock) to the backend; changes made here are published; changes published elsewhere
 * drop what this process holds, unless it holds newer. Each resident entry that came through the tier
 * carries the version it was read at, which `'strict'` confirms with Redis before serving it.
 */
export class TierLink {
  /** Version of each resident entry, as read from or published to the tier: its bytes are at least that new. */
  private readonly versions = new Map<string, string>();
  /**
   * Where each resident entry whose bytes are known to be exactly those of a version stands in the order
   * of changes ({@link seqOf}): a change heard later that is not newer is ignored, and only such an
   * entry is replaced by the bytes a change carries. Messages and command answers come on two
   * connections, so another process's older change can arrive after this process read, or wrote and
   * published, newer bytes.
   */
  private readonly exact = new Map<string, number>();
  /** Reads of a path in flight in this process, so that concurrent misses ask Redis once. */
  private readonly flights = new Map<string, { ticket: number; promise: Promise<Fetched> }>();
  /** Paths whose change is being published here. */
  private readonly publishing = new Map<string, Publishing>();

  constructor(
    private readonly host: TierHost,
    readonly port: TierPort,
  ) {
    const store = host.store;
    const previous = store.onRemove;
    // Any removal or replacement of an entry ends the version it was tagged with.
    store.onRemove = (key, reason, size) => {
      this.versions.delete(key);
      this.exact.delete(key);
      const publishing = this.publishing.get(key);
      if (publishing !== undefined) publishing.removals++;
      previous?.(key, reason, size);
    };
    port.attach({
      invalidated: (scope, version, content) => this.invalidated(scope, version, content),
      down: (error) => void host.events.emit('tierDown', { error }),
      up: () => void host.events.emit('tierUp'),
      failed: () => void host.counters.tierErrors++,
    });
    // Write-back publishes when the bytes reach the backend (no other process could read them before).
    host.events.on('flush', (event) => void this.published({ kind: 'path', path: event.path }));
  }

  /** True when hits must be confirmed with Redis before they are served. */
  get checksHits(): boolean {
    return this.port.strict;
  }

  /**
   * `'strict'`: the resident slot of `key` if Redis confirms its version (counting a hit), else -1 (a
   * copy that cannot be checked is not served). Always -1 in `'eventual'`, whose hits never get here.
   */
  async confirmedSlot(key: string): Promise<number> {
    if (!this.port.strict) return -1;
    const store = this.host.store;
    const slot = store.lookup(key);
    if (slot < 0) return -1;
    const version = this.versions.get(key);
    if (version === undefined || !this.port.available()) return -1;
    if (store.expiresAt(slot) <= Date.now()) return -1;
    if (!(await this.port.validate(key, version))) return -1;
    const again = store.lookup(key);
    if (again < 0 || this.versions.get(key) !== version) return -1;
    store.touch(again, 0);
    this.host.counters.hits++;
    return again;
  }

  /**
   * A read of `key` that this process's cache cannot serve: a confirmed resident slot (strict), else
   * bytes from Redis or from `load` (the engine's backend load, which installs what it read). Counts
   * one hit or one miss. Returned bytes may be the cache's own memory: copy them before any await.
   */
  async read(key: string, load: () => Promise<Buffer>): Promise<number | Buffer> {
    const confirmed = await this.confirmedSlot(key);
    if (confirmed >= 0) return confirmed;
    const host = this.host;
    const flight = this.flights.get(key);
    let fetched: Fetched;
    if (flight !== undefined && host.clock.mayInstall(key, flight.ticket)) {
      fetched = await flight.promise;
      if (this.port.strict) fetched = await this.recheckJoined(key, fetched, load);
    } else {
      fetched = await this.startFlight(key, load).promise;
    }
    const c = host.counters;
    if (fetched.fromTier) {
      c.hits++;
      c.tierHits++;
    } else {
      c.misses++;
      if (fetched.asked) c.tierMisses++;
    }
    return fetched.bytes;
  }

  /**
   * `'strict'`: a read that joined a flight begun before it may have missed a write another process
   * resolved in between; the flight's bytes are served only if their version is still the current one.
   */
  private async recheckJoined(key: string, fetched: Fetched, load: () => Promise<Buffer>): Promise<Fetched> {
    if (fetched.version !== undefined) {
      const bytes = Buffer.from(fetched.bytes); // copied before the await: they may be the cache's own memory
      if (await this.port.validate(key, fetched.version)) return { ...fetched, bytes };
    }
    return this.startFlight(key, load).promise;
  }

  private startFlight(key: string, load: () => Promise<Buffer>): { ticket: number; promise: Promise<Fetched> } {
    const clock = this.host.clock;
    const ticket = clock.begin();
    const promise = this.fetch(key, ticket, load).finally(() => {
      clock.end();
      if (this.flights.get(key)?.promise === promise) this.flights.delete(key);
    });
    const flight = { ticket, promise };
    this.flights.set(key, flight);
    return flight;
  }

  private async fetch(key: string, ticket: number, load: () => Promise<Buffer>): Promise<Fetched> {
    const port = this.port;
    const first = await port.lookup(key, true);
    if (first.bytes !== undefined) return this.fromTier(key, first.bytes, first.version!, ticket);
    if (first.version === undefined) return { bytes: await load(), fromTier: false, asked: false };
    // The version is taken before the backend is read: bytes read after a concurrent write are then
    // stored under the version that write replaced, and never match again.
    let version = first.version;
    return port.withLoadLock<Fetched>(
      key,
      async () => {
        const again = await port.lookup(key, true);
        if (again.bytes !== undefined) return this.fromTier(key, again.bytes, again.version!, ticket);
        if (again.version !== undefined) version = again.version;
        return undefined;
      },
      async () => {
        const bytes = await load();
        const tagged = this.tag(key, version, ticket, false);
        if (bytes.length <= port.maxFileBytes) {
          // Stored only if no change ran in Redis while the backend was read: then the bytes are exactly
          // those of `version` (a write's backend write ends before its change runs), not possibly newer.
          const stored = port.store(key, bytes, version);
          if (tagged) void stored.then((exact) => exact && this.versions.get(key) === version && this.exact.set(key, seqOf(version)));
        }
        return { bytes, fromTier: false, asked: true, version };
      },
    );
  }

  private async fromTier(key: string, bytes: Buffer, version: string, ticket: number): Promise<Fetched> {
    const host = this.host;
    // Not while this process publishes its own change of the path: Redis may have answered with the
    // bytes from before it, and a change heard meanwhile has not marked the path yet (it waits, see invalidated).
    if (!host.closed && !this.publishing.has(key) && host.clock.mayInstall(key, ticket) && host.store.admissible(bytes.length)) {
      await host.install(key, bytes, bytes.length);
      this.tag(key, version, ticket, true);
    }
    return { bytes, fromTier: true, asked: true, version };
  }

  /**
   * Tags the resident clean entry of `key` with `version` (`exact`: its bytes are those of `version`,
   * not possibly newer), unless the path changed since `ticket`. True when tagged.
   */
  private tag(key: string, version: string, ticket: number, exact: boolean): boolean {
    const store = this.host.store;
    const slot = store.lookup(key);
    if (slot < 0 || store.isDirty(slot) || !this.host.clock.mayInstall(key, ticket)) return false;
    this.versions.set(key, version);
    if (exact) this.exact.set(key, seqOf(version));
    else this.exact.delete(key);
    return true;
  }

  // ---------------------------------------------------------------- changes

  /**
   * The version of `key` a whole rewrite of it starts from, for {@link published}'s `expected`: the
   * version this process holds, else Redis's current one (one round trip); undefined when its bytes
   * will not be shared anyway, or the tier is unreachable.
   */
  async versionBeforeRewrite(key: string, size: number): Promise<string | undefined> {
    if (size > this.port.maxFileBytes || !this.port.available()) return undefined;
    return this.versions.get(key) ?? (await this.port.lookup(key, false)).version;
  }

  /**
   * A change of `scope` resolved in this process: versions held here for it end now, and the tier
   * publishes it (or queues it while Redis is away), sharing `content` when given (the path's whole
   * new bytes) and no other change ran since `expected` (see {@link versionBeforeRewrite}). A rewritten
   * path's entry takes the new version; if another change raced it, the entry leaves (which writer's
   * bytes the backend kept is unknown here).
   */
  async published(scope: TierScope, content?: Uint8Array, expected?: string): Promise<void> {
    this.forgetVersions(scope);
    if (scope.kind !== 'path') {
      await this.port.published(scope, content);
      return;
    }
    const path = scope.path;
    const store = this.host.store;
    let publishing = this.publishing.get(path);
    if (publishing === undefined) this.publishing.set(path, (publishing = { count: 0, removals: 0, heard: undefined }));
    publishing.count++;
    const removals = publishing.removals;
    // Only the entry this change left here is tagged: one a read installed while Redis answered (write-around
    // keeps no entry) may hold the bytes from before.
    const resident = store.lookup(path) >= 0;
    try {
      const publication = await this.port.published(scope, content, expected);
      if (publication?.raced === true) {
        this.host.invalidate({ path }, 'keep');
        return;
      }
      // The new version names the bytes this change left here. If the entry left or was replaced while
      // Redis answered, what is resident now is not those bytes, and tagging it would let 'strict'
      // confirm them as current.
      if (publication === undefined || !resident || publishing.removals !== removals) return;
      const slot = store.lookup(path);
      if (slot >= 0 && !store.isDirty(slot)) {
        this.versions.set(path, publication.version);
        this.exact.set(path, seqOf(publication.version));
      }
    } finally {
      if (--publishing.count === 0) {
        this.publishing.delete(path);
        // Another process's change heard meanwhile is applied now that this one's version is known:
        // ignored if it ran before this one in Redis, else it drops (or replaces) what this one left.
        const heard = publishing.heard;
        if (heard !== undefined) this.invalidated(scope, heard.version, heard.content);
      }
    }
  }

  private forgetVersions(scope: TierScope): void {
    if (scope.kind === 'path') {
      this.versions.delete(scope.path);
      this.exact.delete(scope.path);
    } else if (scope.kind === 'all') {
      this.versions.clear();
      this.exact.clear();
    } else {
      for (const key of [...this.versions.keys()]) if (isWithin(key, scope.prefix)) this.versions.delete(key);
      for (const key of [...this.exact.keys()]) if (isWithin(key, scope.prefix)) this.exact.delete(key);
    }
  }

  /**
   * Another process changed `scope` at `version`: drop the clean data and metadata held for it here,
   * unless the path's entry is exactly of that version or a newer one. A path's clean entry of an older
   * version is replaced by the change's `content` when it carried its bytes.
   */
  private invalidated(scope: TierScope, version?: string, content?: Buffer): void {
    const host = this.host;
    if (scope.kind !== 'path') {
      // Dropping is never a step back (the next read asks Redis for the current version), so changes of
      // a prefix or the namespace are applied whatever their order.
      this.forgetVersions(scope);
      host.invalidate(scope.kind === 'prefix' ? { within: scope.prefix } : { all: true }, 'keep', { parent: true });
      host.forgetResolutions();
      return;
    }
    const path = scope.path;
    const publishing = this.publishing.get(path);
    if (publishing !== undefined) {
      // Which of the two changes Redis ran first is known once this process's own one answers.
      publishing.heard = { version, content };
      return;
    }
    const seq = version === undefined ? 0 : seqOf(version);
    const held = this.exact.get(path);
    if (held !== undefined && seq !== 0 && seq <= held) return;
    const slot = host.store.lookup(path);
    // Only a copy this process held is replaced: pushing every file written anywhere into every cache
    // would evict what each process actually reads; and only one known to be older than the change.
    const refill = content !== undefined && seq !== 0 && held !== undefined && slot >= 0 && !host.store.isDirty(slot);
    this.forgetVersions(scope);
    // Dirty data stays ('keep'): it is this process's own write, newer than the change it hears of.
    host.invalidate({ path }, 'keep', { parent: true });
    if (refill) this.refill(path, content, version!);
  }

  /** Installs the bytes another process's change carried, as the path's entry at `version`. */
  private refill(path: string, bytes: Buffer, version: string): void {
    const host = this.host;
    if (host.closed || !host.store.admissible(bytes.length)) return;
    const clock = host.clock;
    const ticket = clock.begin();
    // The store takes the bytes at once (install's promise only waits for the limits).
    const installed = host.install(path, bytes, bytes.length);
    this.tag(path, version, ticket, true);
    clock.end();
    installed.catch(() => undefined);
  }

  /** Wait statistics of the cross-process lock. */
  lockWaits(): { count: number; totalMs: number } {
    return this.port.lockWaits();
  }

  close(): Promise<void> {
    return this.port.close();
  }
}
