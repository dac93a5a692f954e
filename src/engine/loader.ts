// The module's binding, not the global: Node defines the global `performance` as a getter, run at every use.
import { performance } from 'node:perf_hooks';
import type { Backend, BackendFile, BackendStats } from '../backend/backend.js';
import type { Cache } from '../cache/cache.js';
import type { InstallHooks } from '../cache/ports.js';
import { asCallError, fsError, hasCode } from '../errors.js';
import { LatencyHistogram } from '../metrics/latency.js';
import { isDirectoryMode, isSpecialMode } from '../util/modes.js';

/** Default of {@link Loader.readIntoStoreMin}: below it, `readFile` plus a copy is as fast or faster. */
const READ_INTO_STORE_MIN = 16 * 1024;
/** Reads of a file whose size `fstat` does not tell go in pieces of this size. */
const CHUNK = 64 * 1024;

function noop(): void {}

/**
 * The one way bytes come from the backend into the cache. A load is keyed like an entry: concurrent
 * misses of one key share it, and it installs what it read only if nothing changed the key while it
 * waited (`Cache.mayInstall`, the one install guard). Whole files are the unit today; the blocks of a
 * large file are meant to be keys of their own, read by a second reader under the same {@link share}.
 *
 * The resolved bytes belong to the loader (or, read into the store, to the cache): callers copy them
 * right after their `await`, before handing anything out.
 */
export class Loader {
  /**
   * Files at least this large, whose size a caller already knows, are read with the backend's `read`
   * straight into the store's memory instead of `readFile` plus a copy (the crossover was measured with
   * `npm run bench -- seed`).
   */
  readIntoStoreMin = READ_INTO_STORE_MIN;
  /** Latency of successful backend reads, in fixed buckets (read by the Prometheus exporter). */
  readonly readLatency = new LatencyHistogram();

  constructor(
    private readonly cache: Cache,
    private readonly backend: Backend,
    /** Loads record the file's identity (a `stat` before the read) for revalidation to compare with. */
    private readonly capturesIdentity: boolean,
  ) {}

  /**
   * The whole content of real path `key`, from the backend, installed in the cache when allowed. A
   * `knownSize` (the answer of a stat whose kind the caller checked: a regular file) lets a large file
   * be read straight into the store, and spares the stat that tells a special file.
   */
  load(key: string, syscallPath: string, hooks?: InstallHooks, knownSize = -1): Promise<Buffer> {
    return this.share(key, (ticket) => this.loadWhole(key, ticket, syscallPath, hooks, knownSize));
  }

  /**
   * One load per key at a time: a caller arriving while one runs joins it. `start` gets the clock's
   * ticket, and installs only if `Cache.mayInstall(key, ticket)` still holds when its bytes arrive. Any
   * unit of the cache (a whole file today, a block of a large file) loads through here.
   */
  share(key: string, start: (ticket: number) => Promise<Buffer>): Promise<Buffer> {
    const cache = this.cache;
    const pending = cache.loading.get(key);
    if (pending !== undefined) return pending;
    const promise = start(cache.clock.begin());
    cache.loading.set(key, promise);
    // Registered first, so it runs before any caller's continuation: they see the load settled.
    const settled = (): void => {
      if (cache.loading.get(key) === promise) cache.loading.delete(key);
      cache.clock.end();
    };
    promise.then(settled, settled);
    return promise;
  }

  private async loadWhole(key: string, ticket: number, syscallPath: string, hooks: InstallHooks | undefined, size: number): Promise<Buffer> {
    const { cache, backend } = this;
    const bytes = cache.store.bytes;
    const intoStore = size >= this.readIntoStoreMin && backend.read !== undefined && cache.store.admissible(size);
    let target: Buffer | undefined;
    try {
      cache.counters.backendReads++;
      cache.store.recordMiss(key);
      let identity: BackendStats | undefined;
      const statStartedAt = Date.now();
      if (backend.readFileWithStats !== undefined) return await this.loadWithStats(key, ticket, hooks, statStartedAt);
      // Stat before the read, never after: see captureIdentity.
      if (this.capturesIdentity) {
        identity = await backend.stat(key);
        size = identity.size;
      }
      // What kind of file this is, asked beside the read (no added latency) when neither the identity
      // nor the caller's stat (a known size) told: a FIFO, socket or device is read through and never
      // cached (API 1.3 §7). A caller that knows the size checked the kind on the same stat.
      const kind = identity !== undefined || intoStore || size >= 0 ? undefined : backend.stat(key).catch(() => undefined);
      const started = performance.now();
      if (intoStore && !(identity !== undefined && isSpecialMode(identity.mode))) {
        // Read `size` bytes straight into a buffer of the byte store, which the entry then adopts: no
        // intermediate buffer and no copy. One byte more is asked for when the buffer has room, so that
        // a file that grew since the stat is noticed; reading stops once the stat's size is reached, and
        // a backend that returns less is asked again, in case it reads in pieces.
        target = bytes.allocate(size);
        const want = Math.min(target.length, size + 1);
        let n = 0;
        do {
          const got = await backend.read!(key, target, n, want - n, n);
          if (got <= 0) break;
          n += got;
        } while (n < size);
        if (n <= size) {
          this.recordRead(key, started, n);
          hooks?.read?.(n);
          const adopted = target;
          target = undefined;
          return await this.installAdopted(key, ticket, adopted, n, { hooks, identity, statStartedAt });
        }
        // The file grew after the stat: give the buffer back and read it whole (its identity is stale).
        bytes.release(target);
        target = undefined;
        identity = undefined;
      }
      const data = await backend.readFile(key);
      this.recordRead(key, started, data.length);
      const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      hooks?.read?.(buf.length);
      const mode = (identity ?? (kind === undefined ? undefined : await kind))?.mode;
      if (mode !== undefined && isSpecialMode(mode)) return buf;
      if (cache.mayInstall(key, ticket)) await cache.install(key, buf, buf.length, { hooks, identity, statStartedAt });
      return buf;
    } catch (err) {
      if (target !== undefined) bytes.release(target);
      throw asCallError(err, hasCode(err) && err.code === 'EISDIR' ? 'read' : 'open', syscallPath);
    }
  }

  /**
   * The load of a backend whose `readFileWithStats` answers bytes and identity together: over a network
   * store that is one round trip where a stat before the read would be two in a row. Also preferred to
   * reading a large file into the store (that needs its size first, the same second round trip; the
   * copy it spares costs far less than a round trip). Errors are the caller's to map.
   */
  private async loadWithStats(key: string, ticket: number, hooks: InstallHooks | undefined, statStartedAt: number): Promise<Buffer> {
    const cache = this.cache;
    const started = performance.now();
    const { data, stats } = await this.backend.readFileWithStats!(key);
    this.recordRead(key, started, data.length);
    const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    hooks?.read?.(buf.length);
    if (stats !== undefined && isSpecialMode(stats.mode)) return buf; // read through, never cached (API 1.3 §7)
    if (cache.mayInstall(key, ticket)) {
      await cache.install(key, buf, buf.length, { hooks, identity: this.capturesIdentity ? stats : undefined, statStartedAt });
    }
    return buf;
  }

  /**
   * The whole content of `key` read through `file`, a backend file opened at `key` by a load that holds
   * `ticket` (see {@link share}): one `fstat` (the size, the kind and the identity for revalidation), the
   * reads, and a close that is not waited for. Installed as {@link load} installs. The file is closed
   * whatever happens.
   */
  async loadFromFile(key: string, ticket: number, file: BackendFile, syscallPath: string): Promise<Buffer> {
    const cache = this.cache;
    const bytes = cache.store.bytes;
    let target: Buffer | undefined;
    try {
      cache.counters.backendReads++;
      cache.store.recordMiss(key);
      const statStartedAt = Date.now();
      let identity: BackendStats | undefined = await file.stat();
      if (isDirectoryMode(identity.mode)) throw fsError('EISDIR', 'read', syscallPath);
      const size = identity.size;
      const special = isSpecialMode(identity.mode);
      const started = performance.now();
      if (!special && size > 0) {
        // Into the byte store when it may be cached whole, else into a buffer of its own; one byte more
        // is asked for, so that a file that grew since the fstat is noticed.
        const intoStore = size >= this.readIntoStoreMin && cache.store.admissible(size);
        target = intoStore ? bytes.allocate(size) : undefined;
        const into = target ?? Buffer.allocUnsafe(size + 1);
        const want = Math.min(into.length, size + 1);
        let n = 0;
        do {
          const got = await file.read(into, n, want - n, n);
          if (got <= 0) break;
          n += got;
        } while (n < size);
        if (n <= size) {
          void file.close().catch(noop);
          this.recordRead(key, started, n);
          if (target !== undefined) {
            const adopted = target;
            target = undefined;
            return await this.installAdopted(key, ticket, adopted, n, { hooks: undefined, identity: this.capturesIdentity ? identity : undefined, statStartedAt });
          }
          const buf = into.subarray(0, n);
          if (cache.mayInstall(key, ticket)) await cache.install(key, buf, n, { identity: this.capturesIdentity ? identity : undefined, statStartedAt });
          return buf;
        }
        // It grew after the fstat: read it to its end (its identity is stale).
        if (target !== undefined) bytes.release(target);
        target = undefined;
        identity = undefined;
      }
      // Sizes fstat does not know (an empty file that may grow, procfs, a FIFO): read to the end.
      const chunks: Buffer[] = [];
      for (let position = 0; ; ) {
        const chunk = Buffer.allocUnsafe(CHUNK);
        const n = await file.read(chunk, 0, CHUNK, position);
        if (n <= 0) break;
        chunks.push(chunk.subarray(0, n));
        position += n;
      }
      void file.close().catch(noop);
      const buf = Buffer.concat(chunks);
      this.recordRead(key, started, buf.length);
      if (special) return buf; // read through, never cached (API 1.3 §7)
      if (cache.mayInstall(key, ticket)) {
        await cache.install(key, buf, buf.length, { identity: this.capturesIdentity ? identity : undefined, statStartedAt });
      }
      return buf;
    } catch (err) {
      void file.close().catch(noop);
      if (target !== undefined) bytes.release(target);
      throw asCallError(err, hasCode(err) && err.code === 'EISDIR' ? 'read' : 'open', syscallPath);
    }
  }

  /**
   * Installs a store buffer holding `size` bytes. The bytes returned are the store's own memory: they
   * stay untouched until every caller that awaited this load has run (the byte store holds them back
   * until the next turn of the event loop).
   */
  private async installAdopted(
    key: string, ticket: number, adopted: Buffer, size: number,
    source: { hooks: InstallHooks | undefined; identity: BackendStats | undefined; statStartedAt: number },
  ): Promise<Buffer> {
    const bytes = this.cache.store.bytes;
    bytes.hold(adopted);
    try {
      if (this.cache.mayInstall(key, ticket)) await this.cache.install(key, adopted, size, { ...source, adopted: true });
      else bytes.release(adopted);
    } finally {
      setImmediate(() => bytes.unhold(adopted));
    }
    return adopted.subarray(0, size);
  }

  /** @internal Records a backend read's latency (and emits `'backendRead'` when someone listens). */
  recordRead(key: string, started: number, bytes: number): void {
    const ms = performance.now() - started;
    this.readLatency.record(ms);
    const events = this.cache.events;
    // The event object is built only when someone listens: a miss should not allocate for nothing.
    if (events.listenerCount('backendRead') > 0) events.emit('backendRead', { path: key, ms, bytes });
  }
}
