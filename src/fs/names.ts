// Names answered in the caller's `encoding`, as `readdir`, `readlink`, `realpath` and `mkdtemp` answer
// them in Node: UTF-8 strings by default (U+FFFD where a name is not UTF-8), its exact bytes with
// `'buffer'`, or the bytes decoded in another encoding.
import { checkEncoding } from '../args.js';
import { isWellFormed, nameAs } from '../util/byte-path.js';

/** An encoding a call that answers names accepts. */
export type NameEncoding = BufferEncoding | 'buffer';

/** Options of a call that answers names: an encoding, or an object with one. */
export type NameOptions = NameEncoding | { encoding?: NameEncoding | null } | null | undefined;

/** The encoding asked for by `options`, checked as Node checks it (`ERR_INVALID_ARG_VALUE`); `'utf8'` by default. */
export function nameEncoding(options: unknown): NameEncoding {
  const given = typeof options === 'string' ? options : options !== null && typeof options === 'object' ? (options as { encoding?: unknown }).encoding : undefined;
  return given === 'buffer' ? 'buffer' : checkEncoding(given) ?? 'utf8';
}

/** Keys' names in `encoding`; the same array when they are plain text asked as UTF-8 (nothing to convert). */
export function namesAs(names: string[], encoding: NameEncoding): (string | Buffer)[] {
  if ((encoding === 'utf8' || encoding === 'utf-8') && names.every(isWellFormed)) return names;
  return names.map((name) => nameAs(name, encoding));
}
