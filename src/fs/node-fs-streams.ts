import type { Readable, Writable } from 'node:stream';
import type { PathLike } from '../paths.js';
import { handleReadStream, handleWriteStream, type ReadStreamOptions, type StreamHandle, type WriteStreamOptions } from './handle-streams.js';
import { optionsObject, pathArg, type NodeFsContext } from './node-fs-context.js';

/**
 * A FileHandle given as `fd` (Node accepts one, and then needs no path): the stream uses it rather than
 * opening the path. Told by shape: any handle with a read and a close will do.
 */
const givenHandle = (fd: unknown): StreamHandle | undefined =>
  typeof fd === 'object' && fd !== null && typeof (fd as StreamHandle).read === 'function' && typeof (fd as StreamHandle).close === 'function' ? (fd as StreamHandle) : undefined;

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
