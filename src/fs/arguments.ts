import { checkEncoding } from '../args.js';
import { InvalidArgTypeError } from '../errors.js';

// The shapes of Node's arguments that several calls share, and their conversions.

export type Encoding = BufferEncoding;
export type ReadFileOptions = Encoding | { encoding?: Encoding | null; flag?: string; signal?: AbortSignal } | null;
export type WriteFileOptions = Encoding | { encoding?: Encoding | null; mode?: number; flag?: string; signal?: AbortSignal } | null;
export type WriteData = string | NodeJS.ArrayBufferView;

/** The encoding named by a `readFile`/`writeFile` options argument, if any. */
export function encodingOf(options: ReadFileOptions | WriteFileOptions | undefined): Encoding | undefined {
  // Checked as Node checks it: an unknown encoding is ERR_INVALID_ARG_VALUE (not Buffer's ERR_UNKNOWN_ENCODING).
  if (typeof options === 'string') return checkEncoding(options);
  return options?.encoding == null ? undefined : checkEncoding(options.encoding);
}

/** The bytes of a `writeFile`/`appendFile` data argument (a string in `encoding`, or any view). */
export function toData(data: WriteData, encoding: Encoding | undefined): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data, encoding ?? 'utf8');
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new InvalidArgTypeError('data', 'of type string or an instance of Buffer, TypedArray, or DataView', data);
}

/** Converts a Node-style time argument (seconds as number or string, or a Date) to epoch ms. */
export function toTimeMs(value: number | string | Date, name: string): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number' && Number.isFinite(value)) return value * 1000;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value) * 1000;
  throw new InvalidArgTypeError(name, 'of type number, string or an instance of Date', value);
}

/** What `fs.promises.writeFile` takes besides a string or view: chunks from an iterable, an async iterable or a stream. */
export type IterableData = Iterable<string | NodeJS.ArrayBufferView> | AsyncIterable<string | NodeJS.ArrayBufferView>;

/** True for data Node's promise `writeFile` reads chunk by chunk (a string is iterable too, but is data). */
export function isIterableData(data: unknown): data is IterableData {
  return typeof data === 'object' && data !== null && !ArrayBuffer.isView(data) && (Symbol.asyncIterator in data || Symbol.iterator in data);
}

/** The bytes of all the chunks of `data` (strings in `encoding`), for a write of the whole file. */
export async function gatherData(data: IterableData, encoding: Encoding | undefined): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of data) chunks.push(toData(chunk as WriteData, encoding));
  return Buffer.concat(chunks);
}
