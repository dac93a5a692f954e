import { createInterface, type Interface } from 'node:readline';
import { InvalidArgTypeError } from '../errors.js';
import { handleReadStream, handleWriteStream, type ReadStreamOptions, type StreamHandle, type WriteStreamOptions } from './handle-streams.js';

// The parts of Node's FileHandle built on its read and write: vectored I/O, streams and lines. Apart from
// file-handle.ts so that it keeps to the handle's own state; these add none.

const checkViews = (buffers: unknown): NodeJS.ArrayBufferView[] => {
  if (!Array.isArray(buffers) || !buffers.every((b) => ArrayBuffer.isView(b))) {
    throw new InvalidArgTypeError('buffers', 'an instance of ArrayBufferView[]', buffers);
  }
  return buffers as NodeJS.ArrayBufferView[];
};

/** `handle.readv`: each buffer in turn, stopping at a short read, at `position` or the handle's own. */
export async function readvOf<T extends NodeJS.ArrayBufferView[]>(handle: StreamHandle, buffers: T, position?: number | null): Promise<{ bytesRead: number; buffers: T }> {
  checkViews(buffers);
  let at = typeof position === 'number' ? position : null;
  let bytesRead = 0;
  for (const view of buffers) {
    const { bytesRead: n } = await handle.read(view, 0, view.byteLength, at);
    bytesRead += n;
    if (at !== null) at += n;
    if (n < view.byteLength) break;
  }
  return { bytesRead, buffers };
}

/** `handle.writev`: each buffer in turn, at `position` or the handle's own. */
export async function writevOf<T extends NodeJS.ArrayBufferView[]>(handle: StreamHandle, buffers: T, position?: number | null): Promise<{ bytesWritten: number; buffers: T }> {
  checkViews(buffers);
  let at = typeof position === 'number' ? position : null;
  let bytesWritten = 0;
  for (const view of buffers) {
    const { bytesWritten: n } = await handle.write(view, 0, view.byteLength, at);
    bytesWritten += n;
    if (at !== null) at += n;
  }
  return { bytesWritten, buffers };
}

/** `handle.createReadStream`: reads through this handle, closing it at the end unless `autoClose` is false. */
export const readStreamOf = (handle: StreamHandle, shown: string, options?: ReadStreamOptions) => handleReadStream(() => Promise.resolve(handle), options ?? {}, shown);

/** `handle.createWriteStream`: writes through this handle (from `start`, else 0). */
export const writeStreamOf = (handle: StreamHandle, shown: string, options?: WriteStreamOptions) => handleWriteStream(() => Promise.resolve(handle), options ?? {}, false, shown);

/** `handle.readLines`: a readline interface over a read stream of this handle. */
export function linesOf(handle: StreamHandle, shown: string, options?: ReadStreamOptions): Interface {
  return createInterface({ input: readStreamOf(handle, shown, options), crlfDelay: Infinity });
}
