import type { SftpSession } from './sftp-session.js';

/** Read requests in flight per file: enough to fill a 20 ms round trip at loopback speeds. */
const READ_CHUNK = 255 * 1024;
/** Bytes read past the size a file had at its lstat, to notice that it grew (most files did not). */
const PROBE = 4096;
/** How long a file opened for positional reads stays open unused. */
const HANDLE_IDLE_MS = 1000;
const MAX_READ_HANDLES = 64;

/** Reads until `length` bytes or the end of the file (ssh2 may split a large read; a server may return less). */
export async function readFully(s: SftpSession, handle: Buffer, into: Uint8Array, offset: number, length: number, position: number): Promise<number> {
  let done = 0;
  while (done < length) {
    const n = await s.read(handle, into, offset + done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/**
 * Reads the whole file behind `handle` (`size` from its lstat), the read requests pipelined. One more
 * read past the end travels with them: a file that grew since the lstat is read on, one that shrank
 * ends where it ends now.
 */
export async function readAll(s: SftpSession, handle: Buffer, size: number): Promise<Uint8Array> {
  let buffer = Buffer.allocUnsafe(size + PROBE);
  const reads: Promise<number>[] = [];
  for (let at = 0; at < size; at += READ_CHUNK) reads.push(readFully(s, handle, buffer, at, Math.min(READ_CHUNK, size - at), at));
  const probeRead = s.read(handle, buffer, size, PROBE, size);
  probeRead.catch(() => undefined); // its failure, if any, is the same as the reads' (awaited below)
  const counts = await Promise.all(reads);
  // Only a contiguous prefix is returned: a chunk that came back short ended the file at that moment,
  // and anything after it (a file rewritten meanwhile) would not belong with it.
  let length = 0;
  for (const n of counts) {
    length += n;
    if (n < READ_CHUNK) break;
  }
  const extra = await probeRead;
  if (length < size) return buffer.subarray(0, length);
  let position = size + extra;
  while (position - size >= PROBE && extra > 0) {
    const grown = Buffer.allocUnsafe(position * 2);
    buffer.copy(grown, 0, 0, position);
    buffer = grown;
    const n = await s.read(handle, buffer, position, buffer.length - position, position);
    if (n === 0) break;
    position += n;
    if (position < buffer.length) break;
  }
  return buffer.subarray(0, position);
}

/** Writes `data` at `position`, the write requests pipelined. */
export async function writeAll(s: SftpSession, handle: Buffer, data: Uint8Array, position: number): Promise<void> {
  const writes: Promise<void>[] = [];
  for (let at = 0; at < data.byteLength; at += READ_CHUNK) {
    writes.push(s.write(handle, data, at, Math.min(READ_CHUNK, data.byteLength - at), position + at));
  }
  if (data.byteLength === 0 && position > 0) writes.push(s.write(handle, data, 0, 0, position));
  await Promise.all(writes);
}

/** Closes without waiting (the request is pipelined behind the last one); errors of a close are moot. */
export function closeLater(s: SftpSession, handle: Buffer): void {
  s.close(handle).catch(() => undefined);
}

/**
 * Files kept open for positional `read(path, …)` calls, so that a burst of reads in one file costs one
 * round trip each instead of open + read + close. A handle is closed after {@link HANDLE_IDLE_MS}
 * unused (the trust API.md 1.3 §4 gives a checked resolution) and at once by any change made
 * through the backend ({@link drop}).
 */
export class ReadHandles {
  readonly #open = new Map<string, { session: SftpSession; handle: Promise<Buffer>; used: number }>();
  #sweeper: NodeJS.Timeout | undefined;

  /** The open handle of the server file `real`, opened on `s` when none is. */
  get(s: SftpSession, real: string): { session: SftpSession; handle: Promise<Buffer> } {
    const known = this.#open.get(real);
    if (known && !known.session.dead) {
      known.used = Date.now();
      return known;
    }
    const opened = { session: s, handle: s.open(real, 'r'), used: Date.now() };
    opened.handle.catch(() => this.#open.delete(real));
    if (this.#open.size >= MAX_READ_HANDLES) this.drop();
    this.#open.set(real, opened);
    if (!this.#sweeper) {
      this.#sweeper = setInterval(() => this.#sweep(), HANDLE_IDLE_MS);
      this.#sweeper.unref();
    }
    return opened;
  }

  /** Closes every handle (a change was made: what they read may be gone or replaced). */
  drop(): void {
    for (const { session, handle } of this.#open.values()) handle.then((h) => closeLater(session, h), () => undefined);
    this.#open.clear();
  }

  /** Forgets every handle without a request (the sessions are closing). */
  close(): void {
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#open.clear();
  }

  #sweep(): void {
    const now = Date.now();
    for (const [real, open] of this.#open) {
      if (now - open.used >= HANDLE_IDLE_MS || open.session.dead) {
        this.#open.delete(real);
        open.handle.then((h) => closeLater(open.session, h), () => undefined);
      }
    }
    if (this.#open.size === 0 && this.#sweeper) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }
}
