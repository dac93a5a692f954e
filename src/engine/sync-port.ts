import type { BackendStats, BackendSync } from '../backend/backend.js';
import { isBlockKey } from '../cache/block-keys.js';
import { asCallError, fsError, hasCode } from '../errors.js';
import { baseName, joinPath, parentOf } from '../paths.js';
import { isDirectoryMode, isSymlinkMode } from '../util/modes.js';
import { candidateOf, knownAbsent, knownMissing } from './absence.js';
import type { Engine } from './engine.js';

/** Raised by a `…Sync` call that must reach a backend without a synchronous face. */
export class SyncUnsupportedError extends Error {
  readonly code = 'ERR_CACHEFS_SYNC_UNSUPPORTED';
  constructor(operation: string, backendName: string | undefined) {
    super(`cachefs: ${operation}Sync() needs the backend's synchronous face, and ${backendName ?? 'this backend'} has none`);
  }
}

/** Raised by a `…Sync` call made while the cache still replays its journal (before `ready()`). */
export class NotReadyError extends Error {
  readonly code = 'ERR_CACHEFS_NOT_READY';
  constructor(operation: string) {
    super(`cachefs: ${operation}Sync() called before ready() resolved (the journal is being replayed)`);
  }
}

/**
 * The synchronous side of the engine, for the node:fs drop-in's `…Sync` forms. A hit is served exactly as
 * the async path serves it (same slot lookup, same counters, no await); anything that would need an
 * async step (a miss, a due revalidation) reads the backend's synchronous face and counts a miss. A miss
 * that read a whole file installs it, so the next call hits. Writes go to the backend at once and drop
 * what the cache held for the path (see {@link SyncPort.mutate} for why that is right in every mode).
 */
export class SyncPort {
  constructor(private readonly engine: Engine) {}

  /** The backend's synchronous face, or the error a sync call without one must throw. */
  face(operation: string): BackendSync {
    const engine = this.engine;
    if (engine.readiness.gate !== undefined) throw new NotReadyError(operation);
    const sync = engine.backend.sync;
    if (sync === undefined) throw new SyncUnsupportedError(operation, engine.backend.name);
    return sync;
  }

  /** The real path of `key`, from what the cache knows, else from the backend's sync `realpath`. */
  resolve(key: string, operation: string): string {
    const engine = this.engine;
    const known = engine.resolvedKey(key);
    if (known !== undefined) return known;
    const sync = this.face(operation);
    if (sync.realpath === undefined) return key;
    try {
      const real = sync.realpath(key);
      engine.cache.resolutions.remember(key, real);
      return real;
    } catch {
      // A path that does not exist yet: the backend call that follows reports it as Node would.
      return key;
    }
  }

  /** The whole content of `key` as a fresh buffer: a hit's copy, else the backend's bytes (installed). */
  readWhole(key: string, userPath: string): Buffer {
    const engine = this.engine;
    engine.counters.readOps++;
    if (engine.resolvedKey(key) === undefined && knownMissing(engine, key)) throw fsError('ENOENT', 'open', userPath);
    const real = this.resolve(key, 'readFile');
    const store = engine.store;
    let slot = engine.hitSlot(real);
    if (slot < -1) {
      // Revalidation is due; a dirty entry is the program's data and needs no check.
      const found = store.lookup(real);
      slot = found >= 0 && store.isDirty(found) ? found : -1;
    }
    if (slot >= 0) return engine.copyOut(slot);
    const sync = this.face('readFile');
    engine.counters.misses++;
    let bytes: Uint8Array;
    const generation = engine.meta.generation;
    try {
      bytes = sync.readFile(real);
    } catch (err) {
      if (hasCode(err) && err.code === 'ENOENT' && engine.opts.metadataCache) this.proveAbsent(key, generation);
      // Node opens a directory fine and fails on the read, without a path.
      if (err instanceof Error && (err as { code?: string }).code === 'EISDIR') throw fsError('EISDIR', 'read');
      throw asCallError(err, 'open', userPath);
    }
    const out = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.install(real, out);
    return out;
  }

  /**
   * A read that found nothing may have met a dangling link: an `lstat` of the path in its resolved
   * directory tells, and nothing at all there is remembered (unless a change overtook it, `generation`).
   */
  private proveAbsent(key: string, generation: number): void {
    const candidate = this.candidate(key, 'open');
    try {
      this.face('lstat').lstat(candidate);
    } catch (err) {
      if (hasCode(err) && err.code === 'ENOENT') this.engine.meta.setMissing(candidate, generation);
    }
  }

  /** Keeps bytes just read synchronously, unless an async load or a dirty copy has the path. */
  private install(real: string, bytes: Buffer): void {
    const cache = this.engine.cache;
    if (cache.loading.has(real) || cache.store.lookup(real) >= 0) return;
    cache.install(real, bytes, bytes.length).catch(() => undefined); // eviction's flushes report themselves
  }

  /**
   * Copies bytes at `position` of `key` into `into`: from the cache when resident and fresh, else from
   * the backend's sync face (positional read when it has one).
   */
  readAt(key: string, into: Uint8Array, offset: number, length: number, position: number, userPath: string): number {
    const engine = this.engine;
    const real = this.resolve(key, 'read');
    const n = engine.readAtHit(real, into, offset, length, position);
    if (n >= 0) return n;
    const store = engine.store;
    const slot = store.lookup(real);
    if (slot >= 0 && store.isDirty(slot)) {
      const bytes = store.view(slot);
      const end = Math.min(bytes.length, position + length);
      if (end <= position) return 0;
      into.set(bytes.subarray(position, end), offset);
      return end - position;
    }
    const sync = this.face('read');
    engine.counters.misses++;
    try {
      if (sync.read !== undefined) return sync.read(real, into, offset, length, position);
      const whole = sync.readFile(real);
      const end = Math.min(whole.length, position + length);
      if (end <= position) return 0;
      into.set(whole.subarray(position, end), offset);
      return end - position;
    } catch (err) {
      throw asCallError(err, 'read', userPath);
    }
  }

  /**
   * Stats of `key` (following links, or not): the metadata cache's when servable, else the backend's,
   * remembered. As the async way does (engine/cold.ts), a path not resolved yet costs one `lstat` in its
   * resolved directory, which also proves an absence (remembered too); a link is followed the long way.
   */
  stat(key: string, follow: boolean, syscall: string, userPath: string): BackendStats {
    const engine = this.engine;
    const meta = engine.meta;
    const known = follow ? engine.resolvedKey(key) : undefined;
    if (known !== undefined) {
      const cached = meta.get(known, true);
      if (cached !== undefined && engine.servable(cached)) return cached;
      return this.statOfReal(known, syscall, userPath);
    }
    const candidate = this.candidate(key, syscall);
    if (knownAbsent(engine, candidate)) throw fsError('ENOENT', syscall, userPath);
    const cached = meta.get(candidate, follow) ?? (follow || engine.resolvedKey(candidate) !== candidate ? undefined : meta.get(candidate, true));
    if (cached !== undefined && engine.servable(cached)) return cached;
    const sync = this.face(syscall);
    const generation = meta.generation;
    let stats: BackendStats;
    try {
      stats = sync.lstat(candidate);
    } catch (err) {
      if (hasCode(err) && err.code === 'ENOENT') meta.setMissing(candidate, generation);
      throw asCallError(err, syscall, userPath);
    }
    if (isSymlinkMode(stats.mode)) {
      if (follow) return this.statOfReal(this.resolve(key, syscall), syscall, userPath);
      meta.set(candidate, false, stats);
      return stats;
    }
    const resolutions = engine.cache.resolutions;
    resolutions.remember(candidate, candidate);
    if (key !== candidate) resolutions.remember(key, candidate);
    meta.set(candidate, true, stats);
    return this.withDirtyData(candidate, stats);
  }

  /** `key` with its directory's links resolved (from the cache, else the backend's sync `realpath`). */
  private candidate(key: string, syscall: string): string {
    const known = candidateOf(this.engine, key);
    if (known !== undefined || key === '/') return known ?? key;
    const parent = parentOf(key);
    const realParent = this.resolve(parent, syscall);
    return realParent === parent ? key : joinPath(realParent, baseName(key));
  }

  /** `stat` of real path `real` from the backend, remembered. */
  private statOfReal(real: string, syscall: string, userPath: string): BackendStats {
    const sync = this.face(syscall);
    let stats: BackendStats;
    try {
      stats = sync.stat(real);
    } catch (err) {
      throw asCallError(err, syscall, userPath);
    }
    this.engine.meta.set(real, true, stats);
    return this.withDirtyData(real, stats);
  }

  /** `stats` as the program sees them: dirty data overrides size and times. */
  private withDirtyData(real: string, stats: BackendStats): BackendStats {
    const store = this.engine.store;
    if (store.dirtyCount > 0 && !isDirectoryMode(stats.mode)) {
      const slot = store.lookup(real);
      if (slot >= 0 && store.isDirty(slot)) {
        const size = store.size(slot);
        const mtimeMs = store.mtimeMs(slot);
        return { ...stats, size, mtimeMs, ctimeMs: mtimeMs, blocks: Math.ceil(size / 512) };
      }
    }
    return stats;
  }

  /**
   * The target of link `key` (its directory's links resolved, as the async form does), remembered as
   * the async form remembers it (engine/namespace.ts): the target, not a link, or nothing there.
   */
  readlink(key: string, userPath: string): string {
    const sync = this.face('readlink');
    const candidate = this.candidate(key, 'readlink');
    const meta = this.engine.meta;
    const generation = meta.generation;
    let target: string;
    try {
      target = sync.readlink(candidate);
    } catch (err) {
      if (hasCode(err) && err.code === 'EINVAL') meta.setLinkTarget(candidate, '', generation);
      else if (hasCode(err) && err.code === 'ENOENT') meta.setMissing(candidate, generation);
      throw asCallError(err, 'readlink', userPath);
    }
    meta.setLinkTarget(candidate, target, generation);
    return target;
  }

  /**
   * The content `key` has for the program right now, when only the cache knows it (a dirty entry in
   * write-back mode); undefined when the backend's copy is the truth.
   */
  dirtyContent(key: string): Buffer | undefined {
    const store = this.engine.store;
    const slot = store.lookup(key);
    if (slot < 0 || !store.isDirty(slot)) return undefined;
    return Buffer.from(store.view(slot));
  }

  /**
   * Writes the program's dirty bytes of `key` (with `subtree`, of every file below it too) to the
   * backend through `sync`, before a sync change that drops them from the cache: a chmod, chown or a
   * directory's rename must not take the unflushed data of write-back with it.
   */
  writeDirtyThrough(sync: BackendSync, key: string, subtree = false): void {
    const store = this.engine.store;
    if (store.dirtyCount === 0) return;
    const below = key === '/' ? '/' : `${key}/`;
    const keys = subtree ? store.allKeys().filter((k) => !isBlockKey(k) && (k === key || k.startsWith(below))) : [key];
    for (const k of keys) {
      const dirty = this.dirtyContent(k);
      if (dirty !== undefined) sync.writeFile(k, dirty);
    }
  }

  /**
   * Runs a synchronous backend mutation of `keys` and forgets what the cache held for them (data,
   * metadata, their parents' metadata, loads in flight). Dropping is right in every write mode: in
   * write-through and write-around the backend now holds the truth; in write-back, the caller first
   * wrote the program's dirty bytes through with its change (see node-fs-sync.ts), so the discarded
   * dirty entry holds nothing the backend lacks.
   */
  mutate<T>(operation: string, keys: readonly string[], run: (sync: BackendSync) => T, subtree = false): T {
    const sync = this.face(operation);
    const cache = this.engine.cache;
    const result = run(sync);
    const tier = this.engine.tierLink;
    for (const key of keys) {
      cache.invalidate({ path: key }, 'discard', { parent: true });
      if (subtree) cache.invalidate({ within: key }, 'discard');
      // Absences are kept under canonical keys: a path through a linked directory names another one.
      const candidate = this.candidate(key, operation);
      if (candidate !== key) {
        cache.meta.delete(candidate);
        if (subtree) cache.meta.deleteWithin(candidate);
      }
      cache.announce(key, operation === 'writeFile' || operation === 'truncate' || operation === 'chmod' || operation === 'utimes' || operation === 'chown' ? 'change' : 'rename');
      // Other processes learn of the change as soon as Redis takes it (the call itself cannot wait).
      tier?.published(subtree ? { kind: 'prefix', prefix: key } : { kind: 'path', path: key }).catch(() => undefined);
    }
    return result;
  }
}
