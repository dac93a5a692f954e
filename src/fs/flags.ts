import { constants } from 'node:fs';
import { int32Flags } from '../args.js';
import { InvalidArgError } from '../errors.js';

/** What an `open` flag asks for, decoded once at open time. */
export interface OpenMode {
  readable: boolean;
  writable: boolean;
  create: boolean;
  exclusive: boolean;
  truncate: boolean;
  append: boolean;
}

const STRING_FLAGS: Record<string, OpenMode> = {};
function define(names: string[], m: OpenMode): void {
  for (const n of names) STRING_FLAGS[n] = m;
}
const f = false, t = true;
define(['r', 'rs', 'sr'], { readable: t, writable: f, create: f, exclusive: f, truncate: f, append: f });
define(['r+', 'rs+', 'sr+'], { readable: t, writable: t, create: f, exclusive: f, truncate: f, append: f });
define(['w'], { readable: f, writable: t, create: t, exclusive: f, truncate: t, append: f });
define(['wx', 'xw'], { readable: f, writable: t, create: t, exclusive: t, truncate: t, append: f });
define(['w+'], { readable: t, writable: t, create: t, exclusive: f, truncate: t, append: f });
define(['wx+', 'xw+'], { readable: t, writable: t, create: t, exclusive: t, truncate: t, append: f });
define(['a', 'as', 'sa'], { readable: f, writable: t, create: t, exclusive: f, truncate: f, append: t });
define(['ax', 'xa'], { readable: f, writable: t, create: t, exclusive: t, truncate: f, append: t });
define(['a+', 'as+', 'sa+'], { readable: t, writable: t, create: t, exclusive: f, truncate: f, append: t });
define(['ax+', 'xa+'], { readable: t, writable: t, create: t, exclusive: t, truncate: f, append: t });

const READ_ONLY = STRING_FLAGS.r!;

/** True for `'r'` and its synonyms: `readFile`'s fast path. */
export function isPlainRead(m: OpenMode): boolean {
  return m.readable && !m.writable && !m.create && !m.truncate && !m.append;
}

/** True for `'w'`, `'w+'`, `'wx'`…: a whole-file replace (`exclusive` is the caller's to honour). */
export function isReplace(m: OpenMode): boolean {
  return m.writable && m.create && m.truncate && !m.append;
}

/** True for `'a'`, `'a+'`, `'ax'`…: an append that creates (`exclusive` is the caller's to honour). */
export function isCreatingAppend(m: OpenMode): boolean {
  return m.writable && m.create && m.append && !m.truncate;
}

/**
 * Decodes a string or numeric `open` flag as Node does: an unknown string (or another type) throws
 * `ERR_INVALID_ARG_VALUE`, a number that is not a 32-bit integer `ERR_OUT_OF_RANGE`.
 */
export function parseOpenFlags(flags: string | number | undefined): OpenMode {
  if (flags === undefined || flags === null) return READ_ONLY;
  if (typeof flags === 'string') {
    const m = STRING_FLAGS[flags];
    if (!m) throw new InvalidArgError('flags', flags, 'is invalid');
    return m;
  }
  if (typeof flags === 'number') {
    int32Flags(flags);
    const access = flags & 3;
    return {
      readable: access === constants.O_RDONLY || access === constants.O_RDWR,
      writable: access === constants.O_WRONLY || access === constants.O_RDWR,
      create: (flags & constants.O_CREAT) !== 0,
      exclusive: (flags & constants.O_EXCL) !== 0,
      truncate: (flags & constants.O_TRUNC) !== 0,
      append: (flags & constants.O_APPEND) !== 0,
    };
  }
  throw new InvalidArgError('flags', flags, 'is invalid');
}
