import { Readable, Writable } from 'node:stream';
import { InvalidArgTypeError, OutOfRangeError } from '../errors.js';
import type { PathLike } from '../paths.js';
import type { CacheFileHandle } from './file-handle.js';
import { optionsObject, pathArg, type NodeFsContext } from './node-fs-context.js';

export interface ReadStreamOptions { start?: number; end?: number; highWaterMark?: number; flags?: string; encoding?: BufferEncoding | null }
export interface WriteStreamOptions { start?: number; flags?: string; encoding?: BufferEncoding | null; mode?: number; highWaterMark?: number }

const checkPosition = (name: string, value: unknown): number | undefined => {
  if (value === undefined) return undefined;
  if (typeof value !== 'number') throw new InvalidArgTypeError(name, 'of type number', value);
  if (!Number.isInteger(value) || value < 0) throw new OutOfRangeError(name, '>= 0 && <= 9007199254740991', value);
  return value;
};

/**
 * `createReadStream` and `createWriteStream` over cache handles. A read stream reads `highWaterMark`
 * bytes at a time at its position (a cached file is copied chunk by chunk out of the cache's bytes or
 * blocks, never whole); the stream machinery asks for the next chunk only when the consumer drained
 * the last (backpressure).
 */
export function streamForms(ctx: NodeFsContext) {
  function createReadStream(path: PathLike, options?: ReadStreamOptions | BufferEncoding): Readable & { path: string; bytesRead: number } {
    const o = optionsObject<ReadStreamOptions>(options);
    const p = pathArg(ctx, path);
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
        ctx.cache.open(path, o.flags ?? 'r').then((h) => {
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
        if (handle === undefined) return done(err);
        handle.close().then(() => done(err), (closeErr) => done(err ?? closeErr));
      },
    });
    const out = Object.assign(stream, { path: p.shown, bytesRead: 0 });
    return out;
  }

  function createWriteStream(path: PathLike, options?: WriteStreamOptions | BufferEncoding): Writable & { path: string; bytesWritten: number } {
    const o = optionsObject<WriteStreamOptions>(options);
    const p = pathArg(ctx, path);
    let position = checkPosition('start', o.start) ?? 0;
    const flags = o.flags ?? 'w';
    const append = flags.startsWith('a');
    let handle: CacheFileHandle | undefined;
    const stream = new Writable({
      highWaterMark: o.highWaterMark,
      decodeStrings: true,
      defaultEncoding: o.encoding ?? 'utf8',
      construct(done) {
        ctx.cache.open(path, flags, o.mode ?? 0o666).then(async (h) => {
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
        const h = handle!;
        handle = undefined;
        h.close().then(() => done(), done);
      },
      destroy(err, done) {
        if (handle === undefined) return done(err);
        handle.close().then(() => done(err), (closeErr) => done(err ?? closeErr));
      },
    });
    const out = Object.assign(stream, { path: p.shown, bytesWritten: 0 });
    return out;
  }

  return { createReadStream, createWriteStream };
}
