import { Readable, Writable } from 'node:stream';
import { InvalidArgTypeError, OutOfRangeError } from '../errors.js';
import { pathString, type PathLike } from '../paths.js';
import type { CacheFileHandle } from './file-handle.js';
import { optionsObject, pathArg, type NodeFsContext } from './node-fs-context.js';

export interface ReadStreamOptions { start?: number; end?: number; highWaterMark?: number; flags?: string; encoding?: BufferEncoding | null; fd?: unknown; autoClose?: boolean }
export interface WriteStreamOptions { start?: number; flags?: string; encoding?: BufferEncoding | null; mode?: number; highWaterMark?: number; fd?: unknown; autoClose?: boolean }

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
export function handleReadStream(open: () => Promise<CacheFileHandle>, o: ReadStreamOptions, shown: string): Readable & { path: string; bytesRead: number } {
  const start = checkPosition('start', o.start) ?? 0;
  const end = checkPosition('end', o.end) ?? Infinity;
  if (end < start) throw new OutOfRangeError('start', `<= "end" (here: ${end})`, start);
  const chunk = o.highWaterMark ?? 64 * 1024;
  let handle: CacheFileHandle | undefined;
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
export function handleWriteStream(open: () => Promise<CacheFileHandle>, o: WriteStreamOptions, append: boolean, shown: string): Writable & { path: string; bytesWritten: number } {
  let position = checkPosition('start', o.start) ?? 0;
  let handle: CacheFileHandle | undefined;
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

/**
 * A FileHandle given as `fd` (Node accepts one, and then needs no path): the stream uses it rather than
 * opening the path. Told by shape, as the handle's class imports this module.
 */
const givenHandle = (fd: unknown): CacheFileHandle | undefined =>
  typeof fd === 'object' && fd !== null && typeof (fd as CacheFileHandle).read === 'function' && typeof (fd as CacheFileHandle).close === 'function' ? (fd as CacheFileHandle) : undefined;

/** `createReadStream` and `createWriteStream` over cache handles (see {@link handleReadStream}). */
export function streamForms(ctx: NodeFsContext) {
  function createReadStream(path: PathLike, options?: ReadStreamOptions | BufferEncoding): Readable & { path: string; bytesRead: number } {
    const o = optionsObject<ReadStreamOptions>(options);
    const given = givenHandle(o.fd);
    const shown = given && path == null ? '' : pathArg(ctx, path).shown;
    return handleReadStream(() => (given ? Promise.resolve(given) : ctx.cache.open(path, o.flags ?? 'r')), o, shown);
  }

  function createWriteStream(path: PathLike, options?: WriteStreamOptions | BufferEncoding): Writable & { path: string; bytesWritten: number } {
    const o = optionsObject<WriteStreamOptions>(options);
    const flags = o.flags ?? 'w';
    const given = givenHandle(o.fd);
    const shown = given && path == null ? '' : pathArg(ctx, path).shown;
    return handleWriteStream(() => (given ? Promise.resolve(given) : ctx.cache.open(path, flags, o.mode ?? 0o666)), o, flags.startsWith('a'), shown);
  }

  return { createReadStream, createWriteStream };
}
