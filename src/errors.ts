import { constants as osConstants } from 'node:os';
import { inspect } from 'node:util';

/** Descriptions Node prints for the error codes cachefs raises itself. */
const DESCRIPTIONS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EEXIST: 'file already exists',
  EISDIR: 'illegal operation on a directory',
  ENOTDIR: 'not a directory',
  ENOTEMPTY: 'directory not empty',
  EBADF: 'bad file descriptor',
  EINVAL: 'invalid argument',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EIO: 'i/o error',
  ENOSPC: 'no space left on device',
  ELOOP: 'too many symbolic links encountered',
  EXDEV: 'cross-device link not permitted',
  ETIMEDOUT: 'connection timed out',
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  ENOTSUP: 'operation not supported on socket',
  EBUSY: 'resource busy or locked',
  EMFILE: 'too many open files',
};

const ERRNO = osConstants.errno as Record<string, number>;

/**
 * An error shaped like the ones `node:fs/promises` rejects with: `code`, `errno` (negative, as libuv
 * reports it), `syscall`, `path` and, for two-path calls, `dest`.
 */
export class FsError extends Error {
  // Declared, not defined: a defined field would give every error an own `path`/`dest` set to
  // undefined (Node's have none) and cost a define per field on a path resolvers take thousands of times.
  declare readonly errno: number;
  declare readonly code: string;
  declare readonly syscall: string;
  declare readonly path?: string;
  declare readonly dest?: string;

  constructor(code: string, syscall: string, path?: string, dest?: string, detail?: string) {
    const description = detail ?? DESCRIPTIONS[code] ?? 'unknown error';
    let message = `${code}: ${description}, ${syscall}`;
    if (path !== undefined) message += ` '${path}'`;
    if (dest !== undefined) message += ` -> '${dest}'`;
    super(message);
    // Own properties in Node's order (errno, code, syscall, path, dest); `name` is Error's, inherited.
    const errno = ERRNO[code];
    (this as { errno: number }).errno = errno !== undefined ? -errno : -1;
    (this as { code: string }).code = code;
    (this as { syscall: string }).syscall = syscall;
    if (path !== undefined) (this as { path?: string }).path = path;
    if (dest !== undefined) (this as { dest?: string }).dest = dest;
  }
}

/**
 * What a made-without-constructor error shows (see {@link answeredFsError}): Node's message, and the
 * stack an asynchronous fs error has, its first line and no frames. Own values a caller assigns win.
 */
Object.defineProperties(FsError.prototype, {
  message: {
    configurable: true,
    get(this: FsError): string {
      return `${this.code}: ${DESCRIPTIONS[this.code] ?? 'unknown error'}, ${this.syscall}${this.path === undefined ? '' : ` '${this.path}'`}`;
    },
    set(this: FsError, value: unknown) {
      Object.defineProperty(this, 'message', { value, writable: true, configurable: true, enumerable: false });
    },
  },
  stack: {
    configurable: true,
    get(this: FsError): string {
      return `${this.name}: ${this.message}`;
    },
    set(this: FsError, value: unknown) {
      Object.defineProperty(this, 'stack', { value, writable: true, configurable: true, enumerable: false });
    },
  },
});

/** The fields {@link answeredFsError} sets: Node's own, in Node's order. */
interface AnsweredFields {
  errno: number;
  code: string;
  syscall: string;
  path: string;
}

/**
 * Builds an {@link answeredFsError}: a plain constructor whose prototype is `FsError`'s, so that V8 gives
 * every such error one shape (`Object.create` with the same prototype cost twice as much).
 */
const AnsweredFsError = function (this: AnsweredFields, code: string, syscall: string, path: string) {
  const errno = ERRNO[code];
  this.errno = errno !== undefined ? -errno : -1;
  this.code = code;
  this.syscall = syscall;
  this.path = path;
} as unknown as new (code: string, syscall: string, path: string) => FsError;
AnsweredFsError.prototype = FsError.prototype;

/**
 * A fresh fs error made without `Error`'s constructor, for what the drop-in's callback forms answer
 * from memory again and again (a resolver's `stat` of missing paths, `readlink` of every component):
 * V8 spends ~0.4 µs in the constructor even with no stack to capture, more than the rest of such an
 * answer, while this costs a few field stores. It is an `FsError` and an `Error` (`instanceof`), with
 * Node's fields, message and frameless stack; unlike Node's, `util.types.isNativeError` says false.
 */
export function answeredFsError(code: string, syscall: string, path: string): FsError {
  return new AnsweredFsError(code, syscall, path);
}

/** Builds an fs-style error. */
export function fsError(code: string, syscall: string, path?: string, dest?: string): FsError {
  return new FsError(code, syscall, path, dest);
}

/**
 * An fs-style error as Node's asynchronous calls report it: with no stack frames (libuv calls back
 * from an empty JS stack, so Node's own show only the message). Capturing a stack is about half of what
 * making an error costs, and resolvers meet a missing path on most of their probes. A real Error still
 * (`util.types.isNativeError`), as Node's are: an object merely shaped like one is cheaper, but not that.
 */
export function asyncFsError(code: string, syscall: string, path?: string): FsError {
  const limit = Error.stackTraceLimit;
  try {
    Error.stackTraceLimit = 0;
  } catch {
    return new FsError(code, syscall, path); // a frozen Error: the stack is only extra
  }
  try {
    return new FsError(code, syscall, path);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** True for errors that carry a string `code` (fs errors, cachefs errors). */
export function hasCode(err: unknown): err is Error & { code: string } {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'string';
}

/**
 * Re-raises an error from a backend as if the cachefs call itself had failed: same `code`, but the
 * `syscall` and the *virtual* paths of this call (a disk backend's errors would otherwise leak real
 * paths below its root). Errors without an fs code are passed through unchanged.
 */
export function asCallError(err: unknown, syscall: string, path?: string, dest?: string): unknown {
  if (err instanceof FsError && err.syscall === syscall && err.path === path && err.dest === dest) return err;
  if (hasCode(err) && /^E[A-Z0-9]+$/.test(err.code)) {
    const translated = new FsError(err.code, syscall, path, dest);
    (translated as { cause?: unknown }).cause = err;
    return translated;
  }
  return err;
}

/** An argument error in Node's style (`code: 'ERR_INVALID_ARG_VALUE'`, a `TypeError`). */
export class InvalidArgError extends TypeError {
  readonly code = 'ERR_INVALID_ARG_VALUE';
  constructor(name: string, value: unknown, reason: string) {
    super(`The argument '${name}' ${reason}. Received ${describe(value)}`);
  }
}

/** An argument of the wrong type, in Node's style (`code: 'ERR_INVALID_ARG_TYPE'`). */
export class InvalidArgTypeError extends TypeError {
  readonly code = 'ERR_INVALID_ARG_TYPE';
  constructor(name: string, expected: string, value: unknown) {
    super(`The "${name}" argument must be ${expected}. Received ${specificType(value)}`);
  }
}

/** What Node's argument-type errors say they received: `type number (5)`, `an instance of Map`, `undefined`. */
function specificType(value: unknown): string {
  if (value == null) return String(value);
  if (typeof value === 'function') return `function ${value.name}`;
  if (typeof value === 'object') {
    const ctor = (value as { constructor?: { name?: string } }).constructor;
    return ctor?.name ? `an instance of ${ctor.name}` : inspect(value, { depth: -1 });
  }
  let inspected = inspect(value, { colors: false });
  if (inspected.length > 28) inspected = `${inspected.slice(0, 25)}...`;
  return `type ${typeof value} (${inspected})`;
}

/** An out-of-range argument, in Node's style (`code: 'ERR_OUT_OF_RANGE'`). */
export class OutOfRangeError extends RangeError {
  readonly code = 'ERR_OUT_OF_RANGE';
  constructor(name: string, range: string, value: unknown) {
    super(`The value of "${name}" is out of range. It must be ${range}. Received ${describe(value)}`);
  }
}

/** Raised by every call on a cache after `close()`. */
export class CacheClosedError extends Error {
  readonly code = 'ERR_CACHEFS_CLOSED';
  constructor(operation: string) {
    super(`cachefs: ${operation}() called after close()`);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 60 ? value.slice(0, 60) + '…' : value}'`;
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  if (typeof value === 'function') return 'function';
  return Object.prototype.toString.call(value);
}
