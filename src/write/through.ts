import { asCallError } from '../errors.js';
import type { NamespaceOp, WholeWriteOptions, WriteContext, WriteMode } from './write-mode.js';

/**
 * Write-through: every write goes to the backend first; once it succeeded, the cached copy is replaced
 * (a whole write) or patched in place (a positional write, a truncate), so that the next read is a hit.
 * Write-around (`around.ts`) differs only in that last step.
 */
export class WriteThrough implements WriteMode {
  readonly keepsWrittenBytes: boolean = true;
  readonly defersWrites: boolean = false;

  constructor(protected readonly ctx: WriteContext) {}

  async writeWhole(key: string, data: Uint8Array, userPath: string, opts: WholeWriteOptions): Promise<void> {
    const backend = this.ctx.backend;
    const flag = opts.exclusive ? 'wx' : 'w';
    await this.toBackend(() => backend.writeFile(key, data, { flag, ...(opts.mode !== undefined ? { mode: opts.mode } : {}) }), 'open', userPath);
    await this.replaced(key, data);
  }

  async writeAt(key: string, data: Uint8Array, position: number, userPath: string): Promise<void> {
    const backend = this.ctx.backend;
    try {
      await (backend.write ? backend.write(key, data, position) : this.rewrite(key, data, position));
    } catch (err) {
      throw asCallError(err, 'write', userPath);
    }
    const limits = this.patched(key, position, data);
    if (limits !== undefined) await limits;
  }

  async truncate(key: string, length: number, userPath: string): Promise<void> {
    try {
      await this.ctx.backend.truncate(key, length);
    } catch (err) {
      throw asCallError(err, 'open', userPath);
    }
    const limits = this.patched(key, length, null);
    if (limits !== undefined) await limits;
  }

  writeAtNow(key: string, data: Uint8Array, position: number, userPath: string): boolean {
    const sync = this.ctx.backend.sync;
    if (sync?.write === undefined) return false;
    try {
      sync.write(key, data, position);
    } catch (err) {
      throw asCallError(err, 'write', userPath);
    }
    // With no dirty data (the Writer's condition) making room evicts clean entries only: nothing to wait for.
    void this.patched(key, position, data);
    return true;
  }

  truncateNow(key: string, length: number, userPath: string): boolean {
    const sync = this.ctx.backend.sync;
    if (sync === undefined) return false;
    try {
      sync.truncate(key, length);
    } catch (err) {
      throw asCallError(err, 'open', userPath);
    }
    void this.patched(key, length, null);
    return true;
  }

  /** The backend has the whole new content: the cache takes it too. */
  protected async replaced(key: string, data: Uint8Array): Promise<void> {
    const cache = this.ctx.cache;
    cache.metadataChanged(key);
    // Replace in place (install swaps the slot), so a pin on the path survives the rewrite.
    cache.changed(key);
    await cache.install(key, data, data.length);
  }

  /**
   * The backend took a partial change: the resident copy is patched the same way, if it still fits.
   * `data` written at `at`, or with `data` null a truncation to length `at` (no closures: the hot path).
   * Undefined when it is complete already (nothing to wait for: the caller skips an await).
   */
  protected patched(key: string, at: number, data: Uint8Array | null): Promise<void> | undefined {
    const cache = this.ctx.cache;
    const store = cache.store;
    cache.metadataChanged(key);
    const slot = store.lookup(key);
    cache.changed(key);
    if (slot >= 0 && store.admissible(data === null ? at : Math.max(store.size(slot), at + data.length))) {
      if (data === null) store.truncate(slot, at);
      else store.writeAt(slot, at, data);
      store.clearIdentity(slot); // our write changed the file's identity
      return cache.enforceLimitsNow();
    }
    if (slot >= 0) store.remove(slot, 'invalidated');
    return undefined;
  }

  /** Runs one backend call, its error reported as the program's call. */
  protected async toBackend(call: () => Promise<void>, syscall: string, userPath: string): Promise<void> {
    try {
      await call();
    } catch (err) {
      throw asCallError(err, syscall, userPath);
    }
  }

  /** A positional write on a backend without `write`: the whole file, read, patched and written back. */
  private async rewrite(key: string, data: Uint8Array, position: number): Promise<void> {
    const backend = this.ctx.backend;
    const current = Buffer.from(await backend.readFile(key));
    const next = Buffer.alloc(Math.max(current.length, position + data.length));
    current.copy(next);
    next.set(data, position);
    await backend.writeFile(key, next);
  }

  // Nothing is ever owed to the backend in this mode.
  async flushKey(): Promise<void> {}
  async flushAll(): Promise<void> {}
  async flushKeys(): Promise<void> {}
  async close(): Promise<void> {}
  reopen(): void {}

  async aroundNamespaceChange(_op: NamespaceOp, _keys: readonly string[], change: () => Promise<void>): Promise<void> {
    await change();
  }
}
