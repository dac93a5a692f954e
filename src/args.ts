/**
 * Argument checks that answer as `node:fs/promises` does (codes, messages), kept apart from the facade
 * so that `cachefs.ts` only calls them. Each mirrors a validator of Node's `lib/internal/validators.js`.
 */
import { fileURLToPath } from 'node:url';
import { InvalidArgError, InvalidArgTypeError, OutOfRangeError } from './errors.js';
import { decodeBytePath, wellFormed } from './util/byte-path.js';

const UINT32_MAX = 0xffff_ffff;
const OCTAL = /^[0-7]+$/;

/**
 * A file mode as Node's `parseFileMode`: a 32-bit unsigned integer or an octal string. A string that is
 * not octal is `ERR_INVALID_ARG_VALUE`; a number that is not an integer or not in 0..2^32-1 is
 * `ERR_OUT_OF_RANGE`; another type is `ERR_INVALID_ARG_TYPE`. `undefined` (and `null`) give `fallback`.
 */
export function parseFileMode(value: unknown, name: string, fallback: number): number;
export function parseFileMode(value: unknown, name: string, fallback?: number): number | undefined;
export function parseFileMode(value: unknown, name: string, fallback?: number): number | undefined {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'string') {
    if (!OCTAL.test(value)) throw new InvalidArgError(name, value, 'must be a 32-bit unsigned integer or an octal string');
    value = parseInt(value, 8);
  }
  return uint32(value, name);
}

function uint32(value: unknown, name: string): number {
  if (typeof value !== 'number') throw new InvalidArgTypeError(name, 'of type number', value);
  if (!Number.isInteger(value)) throw new OutOfRangeError(name, 'an integer', value);
  if (value < 0 || value > UINT32_MAX) throw new OutOfRangeError(name, `>= 0 && <= ${UINT32_MAX}`, value);
  return value;
}

/** An integer argument (`truncate`'s `len`): a non-number is `ERR_INVALID_ARG_TYPE`, a fraction or NaN `ERR_OUT_OF_RANGE`. */
export function integerArg(value: unknown, name: string): number {
  if (typeof value !== 'number') throw new InvalidArgTypeError(name, 'of type number', value);
  if (!Number.isInteger(value)) throw new OutOfRangeError(name, 'an integer', value);
  if (!Number.isSafeInteger(value)) throw new OutOfRangeError(name, `>= ${Number.MIN_SAFE_INTEGER} && <= ${Number.MAX_SAFE_INTEGER}`, value);
  return value;
}

/** A numeric `open` flag as Node's `validateInt32`: an integer in the signed 32-bit range, else `ERR_OUT_OF_RANGE`. */
export function int32Flags(value: number): number {
  if (!Number.isInteger(value)) throw new OutOfRangeError('flags', 'an integer', value);
  if (value < -(2 ** 31) || value > 2 ** 31 - 1) throw new OutOfRangeError('flags', '>= -2147483648 && <= 2147483647', value);
  return value;
}

/** Node's error for a URL of another scheme than `file:` where a path is expected. */
export class InvalidUrlSchemeError extends TypeError {
  readonly code = 'ERR_INVALID_URL_SCHEME';
  constructor() {
    super('The URL must be of scheme file');
  }
}

/**
 * A `file:` URL as a POSIX path (Node's `fileURLToPath`, which rejects a host or an encoded `/` with its
 * own codes); any other scheme is `ERR_INVALID_URL_SCHEME`.
 */
export function fileUrlPath(url: URL): string {
  if (url.protocol !== 'file:') throw new InvalidUrlSchemeError();
  return fileURLToPath(url);
}

/**
 * The target of `symlink` in the form keys take: a string (made well-formed, as Node encodes it), a
 * Buffer (its exact bytes, escaped where they are not UTF-8) or a `file:` URL, as Node accepts.
 */
export function linkTarget(target: unknown): string {
  let text: string;
  if (typeof target === 'string') text = wellFormed(target);
  else if (Buffer.isBuffer(target)) text = decodeBytePath(target);
  else if (target instanceof URL) text = fileUrlPath(target);
  else throw new InvalidArgTypeError('target', 'of type string or an instance of Buffer or URL', target);
  if (text.includes('\u0000')) {
    throw new InvalidArgError('target', text, 'must be a string, Uint8Array, or URL without null bytes');
  }
  return text;
}

/** An integer argument in `min..max` (`access` and `copyFile` modes), as Node's `validateInteger`. */
export function integerInRange(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number') throw new InvalidArgTypeError(name, 'of type number', value);
  if (!Number.isInteger(value)) throw new OutOfRangeError(name, 'an integer', value);
  if (value < min || value > max) throw new OutOfRangeError(name, `>= ${min} && <= ${max}`, value);
  return value;
}

/** An encoding Node knows (or `'buffer'`, meaning none); another is `ERR_INVALID_ARG_VALUE`, as in Node. */
export function checkEncoding(encoding: unknown): BufferEncoding | undefined {
  if (encoding === undefined || encoding === null || encoding === 'buffer') return undefined;
  if (typeof encoding !== 'string' || !Buffer.isEncoding(encoding)) throw new InvalidArgError('encoding', encoding, 'is invalid encoding');
  return encoding;
}

/** Node's error for a call whose `signal` was aborted: an `AbortError` with `code: 'ABORT_ERR'`. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw Object.assign(new Error('The operation was aborted', { cause: signal.reason }), { name: 'AbortError', code: 'ABORT_ERR' });
  }
}
