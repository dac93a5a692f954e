import type { Backend, BackendFile, BackendStats } from '../backend/backend.js';
import type { Cache } from '../cache/cache.js';
import type { StatFlight } from '../coherence/revalidate.js';
import { asCallError, fsError, hasCode } from '../errors.js';
import { baseName, joinPath, parentOf } from '../paths.js';
import { returnBuffers } from '../store/return-buffers.js';
import { isSymlinkMode } from '../util/modes.js';
import { knownAbsent } from './absence.js';

/** What cold misses need of the engine (an interface, so that no import runs back up to it). */
export interface ColdHost {
  readonly cache: Cache;
  readonly backend: Backend;
  readonly blocks: { readonly files: Map<string, unknown> };
  readonly opts: { readonly metadataCache: boolean };
  readonly tierLink: unknown;
  readonly loader: {
    share(key: string, start: (ticket: number) => Promise<Buffer>): Promise<Buffer>;
    load(key: string, syscallPath: string): Promise<Buffer>;
    loadFromFile(key: string, ticket: number, file: BackendFile, syscallPath: string): Promise<Buffer>;
  };
  readonly revalidator: {
    flight(key: string, follow: boolean, revalidation: boolean): StatFlight;
    landed(flight: StatFlight, stats: BackendStats | undefined): void;
  };
  resolvedKey(key: string): string | undefined;
  resolve(key: string): Promise<string>;
  readWhole(key: string, userPath: string): Promise<Buffer>;
  statOf(key: string, follow: boolean, syscall: string, userPath: string, looked?: BackendStats | null): Promise<BackendStats>;
  withDirtyData(key: string, follow: boolean, stats: BackendStats): Promise<BackendStats>;
}

/**
 * `readFile` and `stat` of a path whose canonical key is not known yet, at the price of the backend's
 * own call. Keys must be canonical (a file reached through a link and through its real path is one
 * entry), and asking `realpath` first costs a round trip of its own. Instead the path's directory is
 * resolved (once, shared by all its children, remembered by the cache's resolutions) and the last
 * component is learnt from the call that had to be made anyway:
 *
 * - `stat`: an `lstat` in the resolved directory. Not a link: the path is canonical and the `lstat` is
 *   its `stat`. A link: resolved as before.
 * - `readFile`: the file is opened through the backend's `open` face in the resolved directory, and the
 *   open file says where it leads (`BackendFile.realPath`, which `nodeBackend` proves anyway to keep
 *   its root); the load is keyed by that. A miss is then open, `fstat`, read, close.
 */
export class ColdMisses {
  constructor(private readonly host: ColdHost) {}

  /**
   * The canonical key of `key` when it is known without a backend call, or, when its directory is known
   * (the common case: a sibling was seen), the key it has unless its last component is a link.
   */
  private async candidateOf(key: string): Promise<string> {
    const parent = parentOf(key);
    const host = this.host;
    const realParent = host.resolvedKey(parent) ?? (await host.resolve(parent));
    return realParent === parent ? key : joinPath(realParent, baseName(key));
  }

  /** True when the cache holds something under `key`: entries are keyed canonically, so it is canonical. */
  private heldUnder(key: string): boolean {
    const host = this.host;
    return host.cache.store.lookup(key) >= 0 || (host.blocks.files.size !== 0 && host.blocks.files.has(key));
  }

  /** The whole content of `key` (a view's key, perhaps through links) as a fresh buffer the caller owns. */
  async readWhole(key: string, userPath: string): Promise<Buffer> {
    const host = this.host;
    const known = host.resolvedKey(key);
    if (known !== undefined) return host.readWhole(known, userPath);
    if (host.backend.realPathOnOpen !== true || host.backend.open === undefined || host.tierLink !== undefined) {
      return host.readWhole(await host.resolve(key), userPath);
    }
    const candidate = await this.candidateOf(key);
    if (knownAbsent(host, candidate)) throw fsError('ENOENT', 'open', userPath);
    const resolutions = host.cache.resolutions;
    const knownCandidate = candidate === key ? undefined : host.resolvedKey(candidate);
    if (knownCandidate !== undefined || this.heldUnder(candidate)) {
      const real = knownCandidate ?? candidate;
      resolutions.remember(key, real);
      return host.readWhole(real, userPath);
    }
    host.cache.counters.misses++;
    const loaded = await host.loader.share(candidate, (ticket) => this.openAndLoad(key, candidate, ticket, userPath));
    return returnBuffers.copy(loaded, 0, loaded.length);
  }

  /**
   * The load of a cold `readFile`, registered under `candidate` (its ticket taken before the open, so a
   * change made while the file opens keeps it from installing): opens, learns where the file leads, and
   * reads it through the open file when that is `candidate`. A link (rare: the last component of a path
   * not seen before) is remembered, and its target loaded by its own key.
   */
  private async openAndLoad(key: string, candidate: string, ticket: number, userPath: string): Promise<Buffer> {
    const host = this.host;
    let file: BackendFile;
    const generation = host.cache.meta.generation;
    try {
      file = await host.backend.open!(candidate, 'r');
    } catch (err) {
      if (hasCode(err) && err.code === 'ENOENT' && host.opts.metadataCache) this.proveAbsent(candidate, generation);
      throw asCallError(err, hasCode(err) && err.code === 'EISDIR' ? 'read' : 'open', userPath);
    }
    let real = file.realPath;
    if (real === undefined) {
      // This file does not tell, whatever the backend said: ask realpath, as before.
      try {
        real = await host.resolve(candidate);
      } catch (err) {
        void file.close().catch(() => undefined);
        throw err;
      }
    }
    const resolutions = host.cache.resolutions;
    resolutions.remember(candidate, real);
    if (key !== candidate) resolutions.remember(key, real);
    if (real !== candidate) {
      // Its target is read by its own key, which counts the call again: a hit if it is cached.
      void file.close().catch(() => undefined);
      host.cache.counters.misses--;
      return host.readWhole(real, userPath);
    }
    return host.loader.loadFromFile(candidate, ticket, file, userPath);
  }

  /**
   * An open that found nothing may have met a dangling link: an `lstat` tells, and a path with nothing
   * at all is remembered as absent. Not awaited: the failed read costs the caller its open only, and an
   * absence the namespace's changes overtook meanwhile is not remembered (`generation`).
   */
  private proveAbsent(candidate: string, generation: number): void {
    const meta = this.host.cache.meta;
    this.host.backend.lstat(candidate).then(
      () => undefined,
      (err: unknown) => {
        if (hasCode(err) && err.code === 'ENOENT') meta.setMissing(candidate, generation);
      },
    );
  }

  /**
   * `stat` of `key` (a view's key, perhaps through links): one `lstat` in its resolved directory when
   * the last component is not a link, the resolution then remembered; otherwise as before. `shape`
   * makes the caller's answer (the facade's stats object) in the turn the stats arrive, without a turn
   * of its own.
   */
  stat<T>(key: string, syscall: string, userPath: string, shape: (stats: BackendStats) => T): Promise<T> {
    const host = this.host;
    const known = host.resolvedKey(key);
    if (known !== undefined) return host.statOf(known, true, syscall, userPath).then(shape);
    return this.statUnresolved(key, syscall, userPath, shape);
  }

  /**
   * {@link stat} of a key whose own resolution the caller just found unknown (a first `stat`): the steps
   * it adds to the backend's `lstat` run in the interpreter on a cold start, so each one counts. A
   * sibling was seen (the common case): the candidate without an async step of its own.
   */
  statUnresolved<T>(key: string, syscall: string, userPath: string, shape: (stats: BackendStats) => T): Promise<T> {
    const host = this.host;
    const parent = parentOf(key);
    const realParent = host.resolvedKey(parent);
    if (realParent === undefined) return this.candidateOf(key).then((candidate) => this.statCandidate(key, candidate, syscall, userPath, shape));
    return this.statCandidate(key, realParent === parent ? key : joinPath(realParent, baseName(key)), syscall, userPath, shape);
  }

  /**
   * {@link stat} once the candidate (`key` with its directory resolved) is known. Not `async`, and the
   * backend's answer is handled in one reaction (which also lands the shared flight): an async function
   * resolved with the promise of another costs three turns more.
   */
  private statCandidate<T>(key: string, candidate: string, syscall: string, userPath: string, shape: (stats: BackendStats) => T): Promise<T> {
    const host = this.host;
    const cache = host.cache;
    const knownCandidate = candidate === key ? undefined : host.resolvedKey(candidate);
    if (knownCandidate !== undefined || this.heldUnder(candidate)) {
      const real = knownCandidate ?? candidate;
      cache.resolutions.remember(key, real);
      return host.statOf(real, true, syscall, userPath).then(shape);
    }
    if (knownAbsent(host, candidate)) return Promise.reject(fsError('ENOENT', syscall, userPath));
    // Metadata is cached under canonical keys only: held, it proves the candidate (and counts the lookup once).
    const meta = cache.meta;
    const looked = meta.get(candidate, true);
    if (looked !== undefined) {
      cache.resolutions.remember(key, candidate);
      return host.statOf(candidate, true, syscall, userPath, looked).then(shape);
    }
    const generation = meta.generation;
    const revalidator = host.revalidator;
    const flight = revalidator.flight(candidate, false, false);
    return flight.promise.then(
      (st) => {
        revalidator.landed(flight, st);
        if (isSymlinkMode(st.mode)) return this.statThroughLinks(key, syscall, userPath, shape);
        const resolutions = cache.resolutions;
        resolutions.remember(candidate, candidate);
        if (key !== candidate) resolutions.remember(key, candidate);
        if (host.opts.metadataCache) meta.set(candidate, true, st);
        return cache.store.dirtyCount === 0 ? shape(st) : host.withDirtyData(candidate, true, st).then(shape);
      },
      (err: unknown) => {
        revalidator.landed(flight, undefined);
        // Missing, or a file on the way: stat says the same. Anything else is explained the long way.
        if (hasCode(err) && err.code === 'ENOENT') meta.setMissing(candidate, generation);
        if (hasCode(err) && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) throw asCallError(err, syscall, userPath);
        return this.statThroughLinks(key, syscall, userPath, shape);
      },
    );
  }

  /** {@link stat} the long way: `key` resolved (every link followed), then its stats. */
  private async statThroughLinks<T>(key: string, syscall: string, userPath: string, shape: (stats: BackendStats) => T): Promise<T> {
    const host = this.host;
    return shape(await host.statOf(await host.resolve(key), true, syscall, userPath));
  }
}
