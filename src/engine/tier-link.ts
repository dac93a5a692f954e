import type { InvalidateOptions, Scope } from '../cache/ports.js';
import type { DataStore } from '../store/data-store.js';
import type { MutationClock } from '../store/mutation-clock.js';
import type { TierPort, TierScope } from '../tier/port.js';
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

/**
 * The engine's side of the shared tier: reads that miss this process's cache go to Redis, then (under
 * the cross-process lock) to the backend; changes made here are published; changes published elsewhere
 * drop what this process holds. Each resident entry that came through the tier carries the version it
 * was read at, which `'strict'` confirms with Redis before serving it.
 */
export class TierLink {
  /** Version of each resident entry, as read from or published to the tier. */
  private readonly versions = new Map<string, string>();
  /** The path whose clean copy the last remote change dropped, which its pushed bytes may replace. */
  private refill: string | undefined;
  /** Reads of a path in flight in this process, so that concurrent misses ask Redis once. */
  private readonly flights = new Map<string, { ticket: number; promise: Promise<Fetched> }>();
  /** Paths whose change is being published here: how many publications, and removals of their entry since. */
  private readonly publishing = new Map<string, { count: number; removals: number }>();

  constructor(
    private readonly host: TierHost,
    readonly port: TierPort,
  ) {
    const store = host.store;
    const previous = store.onRemove;
    // Any removal or replacement of an entry ends the version it was tagged with.
    store.onRemove = (key, reason, size) => {
      this.versions.delete(key);
      const publishing = this.publishing.get(key);
      if (publishing !== undefined) publishing.removals++;
      previous?.(key, reason, size);
    };
    port.attach({
      invalidated: (scope) => this.invalidated(scope),
      pushed: (path, bytes, version) => void this.pushed(path, bytes, version),
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
        if (bytes.length <= port.maxFileBytes) void port.store(key, bytes, version);
        this.tag(key, version, ticket);
        return { bytes, fromTier: false, asked: true, version };
      },
    );
  }

  private async fromTier(key: string, bytes: Buffer, version: string, ticket: number): Promise<Fetched> {
    const host = this.host;
    if (!host.closed && host.clock.mayInstall(key, ticket) && host.store.admissible(bytes.length)) {
      await host.install(key, bytes, bytes.length);
      this.tag(key, version, ticket);
    }
    return { bytes, fromTier: true, asked: true, version };
  }

  /** Tags the resident clean entry of `key` with `version`, unless the path changed since `ticket`. */
  private tag(key: string, version: string, ticket: number): void {
    const store = this.host.store;
    const slot = store.lookup(key);
    if (slot >= 0 && !store.isDirty(slot) && this.host.clock.mayInstall(key, ticket)) this.versions.set(key, version);
  }

  // ---------------------------------------------------------------- changes

  /**
   * A change of `scope` resolved in this process: versions held here for it end now, and the tier
   * publishes it (or queues it while Redis is away), sharing `content` when given (the path's whole
   * new bytes). A rewritten path's entry takes the new version.
   */
  async published(scope: TierScope, content?: Uint8Array): Promise<void> {
    this.forgetVersions(scope);
    if (scope.kind !== 'path') {
      await this.port.published(scope, content);
      return;
    }
    const path = scope.path;
    let publishing = this.publishing.get(path);
    if (publishing === undefined) this.publishing.set(path, (publishing = { count: 0, removals: 0 }));
    publishing.count++;
    const removals = publishing.removals;
    try {
      const version = await this.port.published(scope, content);
      // The new version names the bytes this change left here. If the entry left or was replaced while
      // Redis answered (another process's change arrived first and pushed its bytes, say), what is
      // resident now is not those bytes, and tagging it would let 'strict' confirm them as current.
      if (version === undefined || publishing.removals !== removals) return;
      const store = this.host.store;
      const slot = store.lookup(path);
      if (slot >= 0 && !store.isDirty(slot)) this.versions.set(path, version);
    } finally {
      if (--publishing.count === 0) this.publishing.delete(path);
    }
  }

  private forgetVersions(scope: TierScope): void {
    if (scope.kind === 'path') this.versions.delete(scope.path);
    else if (scope.kind === 'all') this.versions.clear();
    else for (const key of [...this.versions.keys()]) if (isWithin(key, scope.prefix)) this.versions.delete(key);
  }

  /** Another process changed `scope`: drop the clean data and metadata held for it here. */
  private invalidated(scope: TierScope): void {
    const host = this.host;
    this.forgetVersions(scope);
    // Dirty data stays ('keep'): it is this process's own write, newer than the change it hears of.
    if (scope.kind === 'path') {
      const slot = host.store.lookup(scope.path);
      this.refill = slot >= 0 && !host.store.isDirty(slot) ? scope.path : undefined;
      host.invalidate({ path: scope.path }, 'keep', { parent: true });
      return;
    }
    host.invalidate(scope.kind === 'prefix' ? { within: scope.prefix } : { all: true }, 'keep', { parent: true });
    host.forgetResolutions();
  }

  /**
   * Another process's change carried the path's new bytes: they are installed at once (messages arrive
   * in the order Redis ran the changes, so a later one always wins), unless the path changed here since.
   */
  private async pushed(path: string, bytes: Buffer, version: string): Promise<void> {
    const host = this.host;
    // Only a copy this process held is replaced: pushing every file written anywhere into every cache
    // would evict what each process actually reads.
    if (this.refill !== path || host.closed || !host.store.admissible(bytes.length)) return;
    this.refill = undefined;
    const clock = host.clock;
    const ticket = clock.begin();
    try {
      await host.install(path, bytes, bytes.length);
      this.tag(path, version, ticket);
    } finally {
      clock.end();
    }
  }

  /** Wait statistics of the cross-process lock. */
  lockWaits(): { count: number; totalMs: number } {
    return this.port.lockWaits();
  }

  close(): Promise<void> {
    return this.port.close();
  }
}
