import * as fs from 'node:fs';
import type { BackendFile, BackendFileSync, BackendStats } from './backend.js';
import { toBackendStats } from './backend.js';
import { FsError, hasCode } from '../errors.js';

/** Re-raises a failed call's error with the virtual paths of the call, so that no disk path escapes. */
export function virtualError(err: unknown, syscall: string, path: string, dest?: string): unknown {
  if (hasCode(err) && /^E[A-Z0-9]+$/.test(err.code)) return new FsError(err.code, syscall, path, dest);
  return err;
}

/** One descriptor of {@link Backend.open} on the disk; errors name the virtual path it was opened at. */
export class NodeFile implements BackendFile {
  private closed = false;
  /**
   * Calls in flight. `close` waits for them, as Node's FileHandle does: a read still running when the
   * descriptor closed could land on the same number reused by the next open, and read another file.
   */
  private inFlight = 0;
  private drained: (() => void) | undefined;
  constructor(private readonly fd: number, private readonly path: string, readonly realPath?: string) {}

  private call<T>(syscall: string, start: (done: (err: NodeJS.ErrnoException | null, value?: T) => void) => void): Promise<T> {
    if (this.closed) return Promise.reject(new FsError('EBADF', syscall, this.path));
    this.inFlight++;
    return new Promise<T>((resolve, reject) =>
      start((err, value) => {
        if (--this.inFlight === 0) this.drained?.();
        if (err) reject(virtualError(err, syscall, this.path));
        else resolve(value as T);
      }),
    );
  }

  read(into: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return this.call('read', (done) => fs.read(this.fd, into, offset, length, position, done));
  }
  write(data: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return this.call('write', (done) => fs.write(this.fd, data, offset, length, position, done));
  }
  async stat(): Promise<BackendStats> {
    return toBackendStats(await this.call<fs.Stats>('fstat', (done) => fs.fstat(this.fd, done)));
  }
  truncate(length: number): Promise<void> {
    return this.call('ftruncate', (done) => fs.ftruncate(this.fd, length, done));
  }
  sync(): Promise<void> {
    return this.call('fdatasync', (done) => fs.fdatasync(this.fd, done));
  }
  async close(): Promise<void> {
    if (this.closed) throw new FsError('EBADF', 'close', this.path);
    this.closed = true;
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    await new Promise<void>((resolve, reject) => fs.close(this.fd, (err) => (err ? reject(virtualError(err, 'close', this.path)) : resolve())));
  }
}

/** The synchronous twin of {@link NodeFile}. */
export class NodeFileSync implements BackendFileSync {
  private closed = false;
  constructor(private readonly fd: number, private readonly path: string) {}

  private call<T>(syscall: string, fn: () => T): T {
    if (this.closed) throw new FsError('EBADF', syscall, this.path);
    try {
      return fn();
    } catch (err) {
      throw virtualError(err, syscall, this.path);
    }
  }

  read(into: Uint8Array, offset: number, length: number, position: number): number {
    return this.call('read', () => fs.readSync(this.fd, into, offset, length, position));
  }
  write(data: Uint8Array, offset: number, length: number, position: number): number {
    return this.call('write', () => fs.writeSync(this.fd, data, offset, length, position));
  }
  stat(): BackendStats {
    return toBackendStats(this.call('fstat', () => fs.fstatSync(this.fd)));
  }
  truncate(length: number): void {
    this.call('ftruncate', () => fs.ftruncateSync(this.fd, length));
  }
  sync(): void {
    this.call('fdatasync', () => fs.fdatasyncSync(this.fd));
  }
  close(): void {
    this.call('close', () => fs.closeSync(this.fd));
    this.closed = true;
  }
}
