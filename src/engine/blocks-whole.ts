import type { Backend, BackendFile, BackendStats } from '../backend/backend.js';
import type { Cache } from '../cache/cache.js';
import { asCallError } from '../errors.js';
import type { BlockedFile, ReadSource } from './block-file.js';

/** Files above `maxBytes / SCAN_DIVISOR` are read whole without admitting their blocks (scan resistance). */
export const SCAN_DIVISOR = 4;

/** What whole-file reads need of the block cache (structural, so no import runs back to it). */
interface Blocks {
  readonly files: Map<string, BlockedFile>;
  copyResident(key: string, f: BlockedFile, into: Uint8Array, offset: number, length: number, position: number): number;
  dropFile(key: string): boolean;
  installAll(key: string, data: Uint8Array, st: BackendStats | undefined, statStartedAt: number): Promise<void>;
  wants(size: number): boolean;
  record(key: string, size: number, st: BackendStats | undefined, statStartedAt: number): BlockedFile;
  pathSource(key: string): ReadSource | undefined;
}

/** What they need of the engine (the block cache's host). */
interface Host {
  readonly cache: Cache;
  readonly backend: Backend;
  readonly capturesIdentity: boolean;
  readonly revalidator: { stat(key: string, follow: boolean, revalidation: boolean): Promise<BackendStats> };
  readonly loader: { recordRead(key: string, started: number, bytes: number): void };
}

/**
 * `readFile` of a file known to be block-cached: assembled from its resident blocks (one hit), else read
 * whole from the backend into a fresh buffer the caller owns (one miss), its blocks admitted only when
 * the file is small enough that it cannot flush the hot set.
 */
export class WholeReads {
  constructor(
    private readonly blocks: Blocks,
    private readonly host: Host,
  ) {}

  /** The hit half: the whole file assembled from resident, valid blocks (a fresh buffer), or undefined. */
  wholeHit(key: string): Buffer | undefined {
    const core = this.host.cache;
    const f = this.blocks.files.get(key)!;
    if (f.slots.size > 0 && (core.revalidateAfter < 0 || Date.now() - f.validatedAt < core.revalidateAfter)) {
      const out = Buffer.allocUnsafe(f.size);
      if (this.blocks.copyResident(key, f, out, 0, f.size, 0) === f.size) return out;
    }
    return undefined;
  }

  /** The miss half of a whole-file read of a file known to be block-cached (counts the miss). */
  readWhole(key: string, userPath: string, source: ReadSource): Promise<Buffer> {
    this.host.cache.counters.misses++;
    return this.loadWhole(key, this.blocks.files.get(key)?.size ?? 0, userPath, source);
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
        this.blocks.dropFile(key);
        const whole = await this.host.backend.readFile(key).catch((err: unknown) => {
          throw asCallError(err, 'open', userPath);
        });
        return Buffer.from(whole);
      }
      const data = out.subarray(0, n);
      const maxBytes = core.store.maxBytes;
      if (core.clock.mayInstall(key, ticket) && !core.closed && core.store.lookup(key) < 0 && (maxBytes === 0 || n <= maxBytes / SCAN_DIVISOR)) {
        await this.blocks.installAll(key, data, st, statStartedAt);
      } else if (this.blocks.files.get(key)?.size !== n) {
        this.blocks.dropFile(key);
        if (this.blocks.wants(n)) this.blocks.record(key, n, st, statStartedAt);
      }
      return data;
    } finally {
      core.clock.end();
    }
  }

  /**
   * The whole file: from resident blocks, else read whole through `source`, through one backend file opened for it, or by path. Undefined when the
   * backend offers no positional reads at all (the caller loads the file as a whole).
   */
  readWholeOf(key: string, userPath: string, source: ReadSource | undefined): Promise<Buffer> | undefined {
    const hit = this.wholeHit(key);
    if (hit !== undefined) return Promise.resolve(hit);
    const backend = this.host.backend;
    if (source === undefined && backend.open !== undefined) return this.readWholeOpened(key, userPath);
    const from = source ?? this.blocks.pathSource(key);
    return from === undefined ? undefined : this.readWhole(key, userPath, from);
  }

  private async readWholeOpened(key: string, userPath: string): Promise<Buffer> {
    let file: BackendFile;
    try {
      file = await this.host.backend.open!(key, 'r');
    } catch (err) {
      this.host.cache.counters.misses++;
      throw asCallError(err, 'open', userPath);
    }
    try {
      return await this.readWhole(key, userPath, (into, offset, length, position) => file.read(into, offset, length, position));
    } finally {
      await file.close().catch(() => undefined);
    }
  }

}
