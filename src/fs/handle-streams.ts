import { Readable, Writable } from 'node:stream';
import { InvalidArgTypeError, OutOfRangeError } from '../errors.js';

// Read and write streams over an open handle, shared by the drop-in's createReadStream/createWriteStream
// and FileHandle's own: they need only what {@link StreamHandle} names, so neither side imports the other.

export interface ReadStreamOptions { start?: number; end?: number; highWaterMark?: number; flags?: string; encoding?: BufferEncoding | null; fd?: unknown; autoClose?: boolean }
export interface WriteStreamOptions { start?: number; flags?: string; encoding?: BufferEncoding | null; mode?: number; highWaterMark?: number; fd?: unknown; autoClose?: boolean }

/** What a stream asks of the handle under it (a cache FileHandle has it). */
export interface StreamHandle {
  read(buffer: NodeJS.ArrayBufferView, offset: number, length: number, position: number | null): Promise<{ bytesRead: number }>;
  write(buffer: NodeJS.ArrayBufferView, offset: number, length: number, position: number | null): Promise<{ bytesWritten: number }>;
  stat(): Promise<{ size: number }>;
  close(): Promise<void>;
}

const checkPosition = (name: string, value: unknown): number | undefined => {
  if (value === undefined) return undefined;
  if (typeof value !== 'number') throw new InvalidArgTypeError(name, 'of type number', value);
  if (!Number.isInteger(value) || value < 0) throw new OutOfRangeError(name, '>= 0 && <= 9007199254740991', value);
  return value;
};

/**
 * A read stream over the handle `open` gives: `highWaterMark` bytes at a time at its position (a cached
 * file is copied chunk by chunk out of the cache's bytes or blocks, never whole); the stream machinery
 * asks for the next chunk only when the consumer drained the last (backpressure). The handle is closed
 * at the end or on destroy unless `autoClose` is false.
 */
export function handleReadStream(open: () => Promise<StreamHandle>, o: ReadStreamOptions, shown: string): Readable & { path: string; bytesRead: number } {
  const start = checkPosition('start', o.start) ?? 0;
  const end = checkPosition('end', o.end) ?? Infinity;
  if (end < start) throw new OutOfRangeError('start', `<= "end" (here: ${end})`, start);
  const chunk = o.highWaterMark ?? 64 * 1024;
  let handle: StreamHandle | undefined;
  let position = start;
  const stream = new Readable({
    highWaterMark: chunk,
    encoding: o.encoding ?? undefined,
    construct(done) {
      open().then((h) => {
        handle = h;
        done();
        stream.emit('open');
        stream.emit('ready');
      }, done);
    },
    read(size) {
      const want = Math.min(Math.max(size, 1), end + 1 - position);
      if (want <= 0) return void this.push(null);
      const buffer = Buffer.allocUnsafe(want);
      handle!.read(buffer, 0, want, position).then(({ bytesRead }) => {
        position += bytesRead;
        out.bytesRead += bytesRead;
        this.push(bytesRead === 0 ? null : bytesRead < want ? buffer.subarray(0, bytesRead) : buffer);
      }, (err) => this.destroy(err));
    },
    destroy(err, done) {
      if (handle === undefined || o.autoClose === false) return done(err);
      handle.close().then(() => done(err), (closeErr) => done(err ?? closeErr));
    },
  });
  const out = Object.assign(stream, { path: shown, bytesRead: 0 });
  return out;
}

/** A write stream over the handle `open` gives, from `start` (or the end, to append); closed as a read stream's. */
export function handleWriteStream(open: () => Promise<StreamHandle>, o: WriteStreamOptions, append: boolean, shown: string): Writable & { path: string; bytesWritten: number } {
  let position = checkPosition('start', o.start) ?? 0;
  let handle: StreamHandle | undefined;
  const release = (): Promise<void> => {
    const h = handle;
    handle = undefined;
    return h === undefined || o.autoClose === false ? Promise.resolve() : h.close();
  };
  const stream = new Writable({
    highWaterMark: o.highWaterMark,
    decodeStrings: true,
    defaultEncoding: o.encoding ?? 'utf8',
    construct(done) {
      open().then(async (h) => {
        handle = h;
        if (append) position = (await h.stat()).size;
        done();
        stream.emit('open');
        stream.emit('ready');
      }, done);
    },
    write(data: Buffer, _encoding, done) {
      handle!.write(data, 0, data.length, position).then(({ bytesWritten }) => {
        position += bytesWritten;
        out.bytesWritten += bytesWritten;
        done();
      }, done);
    },
    final(done) {
      release().then(() => done(), done);
    },
    destroy(err, done) {
      release().then(() => done(err), (closeErr) => done(err ?? closeErr));
    },
  });
  const out = Object.assign(stream, { path: shown, bytesWritten: 0 });
  return out;
}
