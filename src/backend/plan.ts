import * as fs from 'node:fs';
import type { BackendDirent } from './backend.js';
import { decodeBytePath, exactName, syscallPath as os } from '../util/byte-path.js';

// Paths here are keys (util/byte-path.ts): `os(p)` gives a system call the bytes a name with escaped
// bytes stands for, and names coming back (entries, link targets, real paths) are read again as bytes
// only when their string lost some (a U+FFFD in it), so plain names cost what they cost before.

/**
 * One piece of disk backend logic, written once and run by either face: a generator that yields the
 * file system calls it needs ({@link io}) and is resumed with their results (or has their errors thrown
 * into it). {@link runSync} answers with `fs.*Sync` calls, {@link runAsync} with the callback calls of
 * `node:fs` (lighter than `fs.promises`, whose FileHandle objects a confined open does not need).
 */
export type Plan<T> = Generator<Call, T, unknown>;

interface Call {
  op: Op;
  args: unknown[];
}

type Op = keyof typeof syncOps;

function noop(): void {}

/**
 * Where the kernel says an open descriptor leads, as a key (its bytes exact, so that the confinement
 * check compares bytes), or undefined without procfs.
 */
export function procPath(fd: number): string | undefined {
  const link = `/proc/self/fd/${fd}`;
  try {
    return exactName(fs.readlinkSync(link), () => fs.readlinkSync(link, 'buffer'));
  } catch {
    return undefined;
  }
}

/** A directory's entries with their kinds, names as keys. */
function entriesOf(list: fs.Dirent[] | fs.Dirent<Buffer>[]): BackendDirent[] {
  return list.map(
    (entry): BackendDirent => ({
      name: typeof entry.name === 'string' ? entry.name : decodeBytePath(entry.name),
      type: entry.isFile() ? 'file' : entry.isDirectory() ? 'directory' : entry.isSymbolicLink() ? 'symlink' : 'other',
    }),
  );
}

/** Whether a listing read as strings may have lost bytes of a name (then it is read again as bytes). */
function lossy(list: fs.Dirent[]): boolean {
  return list.some((entry) => entry.name.includes('\uFFFD'));
}

const syncOps = {
  lstat: (p: string) => fs.lstatSync(os(p)),
  realpath: (p: string) => exactName(fs.realpathSync.native(os(p)), () => fs.realpathSync.native(os(p), 'buffer')),
  readlink: (p: string) => exactName(fs.readlinkSync(os(p)), () => fs.readlinkSync(os(p), 'buffer')),
  open: (p: string, flags: number, mode: number) => fs.openSync(os(p), flags, mode),
  close: (fd: number) => fs.closeSync(fd),
  /** Closes without waiting: a read-only descriptor's close has nothing to report. */
  release: (fd: number) => fs.closeSync(fd),
  // procfs is memory, not disk: asking it on the main thread costs a syscall, not a thread-pool trip.
  procPath,
  /** Where a descriptor leads and its stats, both needed before a whole-file read. */
  inspect: (fd: number): [string | undefined, fs.Stats] => [procPath(fd), fs.fstatSync(fd)],
  fstat: (fd: number) => fs.fstatSync(fd),
  read: (fd: number, into: Uint8Array, offset: number, length: number, position: number) =>
    fs.readSync(fd, into, offset, length, position),
  write: (fd: number, data: Uint8Array, offset: number, length: number, position: number) =>
    fs.writeSync(fd, data, offset, length, position),
  ftruncate: (fd: number, length: number) => fs.ftruncateSync(fd, length),
  fchmod: (fd: number, mode: number) => fs.fchmodSync(fd, mode),
  readdir: (p: string): BackendDirent[] => {
    const list = fs.readdirSync(os(p), { withFileTypes: true });
    return entriesOf(lossy(list) ? fs.readdirSync(os(p), { withFileTypes: true, encoding: 'buffer' }) : list);
  },
  mkdir: (p: string, recursive: boolean, mode: number) => fs.mkdirSync(os(p), { recursive, mode }),
  rmdir: (p: string) => fs.rmdirSync(os(p)),
  unlink: (p: string) => fs.unlinkSync(os(p)),
  rename: (from: string, to: string) => fs.renameSync(os(from), os(to)),
  symlink: (target: string, p: string) => fs.symlinkSync(os(target), os(p)),
  link: (existing: string, p: string) => fs.linkSync(os(existing), os(p)),
  chmod: (p: string, mode: number) => fs.chmodSync(os(p), mode),
  lchown: (p: string, uid: number, gid: number) => fs.lchownSync(os(p), uid, gid),
  lutimes: (p: string, atime: number, mtime: number) => fs.lutimesSync(os(p), atime, mtime),
  statfs: (p: string) => fs.statfsSync(os(p)),
};

const promised =
  <A extends unknown[], R>(fn: (...args: [...A, (err: NodeJS.ErrnoException | null, result: R) => void]) => void) =>
  (...args: A): Promise<R> =>
    new Promise<R>((resolve, reject) => {
      fn(...args, (err, result) => (err ? reject(err) : resolve(result)));
    });

const fstatAsync = promised<[number], fs.Stats>(fs.fstat);
/** realpath calls in flight: concurrent cold calls in one directory share one check of it. */
const resolving = new Map<string, Promise<string>>();

type NameCallback = (err: NodeJS.ErrnoException | null, name: string | Buffer) => void;
type NameCall = (path: fs.PathLike, options: { encoding: 'utf8' | 'buffer' }, done: NameCallback) => void;
const AS_TEXT = { encoding: 'utf8' } as const;
const AS_BYTES = { encoding: 'buffer' } as const;

/** A call that answers a name (readlink, realpath) as a key: asked again for bytes when its string lost some. */
function nameOf(call: NameCall): (p: string) => Promise<string> {
  return (p) =>
    new Promise<string>((resolve, reject) => {
      const path = os(p);
      call(path, AS_TEXT, (err, text) => {
        if (err) reject(err);
        else if (!(text as string).includes('\uFFFD')) resolve(text as string);
        else call(path, AS_BYTES, (again, bytes) => (again ? reject(again) : resolve(decodeBytePath(bytes as Buffer))));
      });
    });
}

const realpathNative = nameOf(fs.realpath.native as unknown as NameCall);
const readlinkAsync = nameOf(fs.readlink as unknown as NameCall);

/** Where a descriptor leads (procfs) and its stats, both asked of the thread pool at once. */
export function inspectAsync(fd: number): Promise<[string | undefined, fs.Stats]> {
  const link = `/proc/self/fd/${fd}`;
  return Promise.all([
    new Promise<string | undefined>((resolve) =>
      fs.readlink(link, (err, at) => {
        if (err) resolve(undefined);
        else if (!at.includes('\uFFFD')) resolve(at);
        else fs.readlink(link, 'buffer', (again, bytes) => resolve(again ? undefined : decodeBytePath(bytes)));
      }),
    ),
    fstatAsync(fd),
  ]);
}

export function sharedRealpath(path: string): Promise<string> {
  let pending = resolving.get(path);
  if (pending === undefined) {
    pending = realpathNative(path);
    resolving.set(path, pending);
    const settle = () => resolving.delete(path);
    pending.then(settle, settle);
  }
  return pending;
}

/** `open` of a key, for the backend's hot paths that run without a plan. */
export function openAsync(disk: string, flags: number): Promise<number> {
  return new Promise((resolve, reject) => fs.open(os(disk), flags, (err, fd) => (err ? reject(err) : resolve(fd))));
}

/** `lstat` of a key, for the backend's hot paths that run without a plan. */
export function lstatAsync(disk: string): Promise<fs.Stats> {
  return new Promise((resolve, reject) => fs.lstat(os(disk), (err, stats) => (err ? reject(err) : resolve(stats))));
}

/** An fs call whose first argument is a path, taking a key. */
function onPath<A extends unknown[], R>(
  fn: (path: fs.PathLike, ...args: [...A, (err: NodeJS.ErrnoException | null, result: R) => void]) => void,
): (p: string, ...args: A) => Promise<R> {
  const call = promised<[fs.PathLike, ...A], R>(fn);
  return (p, ...args) => call(os(p), ...args);
}

/** An fs call of two paths, taking keys. */
function onPaths(fn: (a: fs.PathLike, b: fs.PathLike, done: (err: NodeJS.ErrnoException | null) => void) => void) {
  const call = promised<[fs.PathLike, fs.PathLike], void>(fn);
  return (a: string, b: string) => call(os(a), os(b));
}

type OpTable = { [K in Op]: (...args: Parameters<(typeof syncOps)[K]>) => unknown };

const asyncOps: OpTable = {
  lstat: onPath<[], fs.Stats>(fs.lstat),
  realpath: sharedRealpath,
  readlink: readlinkAsync,
  open: onPath<[number, number], number>(fs.open),
  close: promised<[number], void>(fs.close),
  release: (fd) => fs.close(fd, noop),
  procPath,
  // Both in the thread pool at once: the descriptor check costs no latency beside the fstat.
  inspect: inspectAsync,
  fstat: (fd) => fstatAsync(fd),
  read: promised<[number, Uint8Array, number, number, number], number>(fs.read),
  write: promised<[number, Uint8Array, number, number, number], number>(fs.write),
  ftruncate: promised<[number, number], void>(fs.ftruncate),
  fchmod: promised<[number, number], void>(fs.fchmod),
  readdir: (p) =>
    new Promise<BackendDirent[]>((resolve, reject) =>
      fs.readdir(os(p), { withFileTypes: true }, (err, entries) => {
        if (err) reject(err);
        else if (!lossy(entries)) resolve(entriesOf(entries));
        else fs.readdir(os(p), { withFileTypes: true, encoding: 'buffer' }, (again, exact) => (again ? reject(again) : resolve(entriesOf(exact))));
      }),
    ),
  mkdir: (p, recursive, mode) =>
    new Promise<void>((resolve, reject) => fs.mkdir(os(p), { recursive, mode }, (err) => (err ? reject(err) : resolve()))),
  rmdir: onPath<[], void>(fs.rmdir),
  unlink: onPath<[], void>(fs.unlink),
  rename: onPaths(fs.rename),
  symlink: onPaths(fs.symlink),
  link: onPaths(fs.link),
  chmod: onPath<[number], void>(fs.chmod),
  lchown: onPath<[number, number], void>(fs.lchown),
  lutimes: onPath<[number, number], void>(fs.lutimes),
  statfs: onPath<[], fs.StatsFs>(fs.statfs),
};

/** Yields one file system call and returns its result: `const s = yield* io.lstat(p)`. */
export const io = Object.fromEntries(
  Object.keys(syncOps).map((op) => [
    op,
    function* (...args: unknown[]): Plan<unknown> {
      return yield { op: op as Op, args };
    },
  ]),
) as unknown as { [K in Op]: (...args: Parameters<(typeof syncOps)[K]>) => Plan<ReturnType<(typeof syncOps)[K]>> };

type Step<T> = IteratorResult<Call, T>;

/**
 * Walks `plan` with the answers of `ops` for as long as they are at hand, and stops at its end or at the
 * first answer still to come (a promise, for {@link runAsync} to await). The one loop both drivers share:
 * the sync table never answers with a promise, and the async one answers at once where it can (`release`,
 * `procPath`), so those steps cost no turn of the event loop.
 */
function walk<T>(plan: Plan<T>, ops: OpTable, step: Step<T>): { done: true; value: T } | { done: false; value: Promise<unknown> } {
  while (!step.done) {
    const { op, args } = step.value;
    let answer: unknown;
    try {
      answer = (ops[op] as (...a: unknown[]) => unknown)(...args);
    } catch (err) {
      step = plan.throw(err);
      continue;
    }
    if (answer instanceof Promise) return { done: false, value: answer };
    step = plan.next(answer);
  }
  return step;
}

/** Runs a plan with synchronous calls. */
export function runSync<T>(plan: Plan<T>): T {
  // Every answer of syncOps is at hand, so the walk ends with the plan.
  return walk(plan, syncOps, plan.next()).value as T;
}

/** Runs a plan with asynchronous calls, one at a time. */
export async function runAsync<T>(plan: Plan<T>): Promise<T> {
  let step = plan.next();
  for (;;) {
    const reached = walk(plan, asyncOps, step);
    if (reached.done) return reached.value;
    let answer: unknown;
    try {
      answer = await reached.value;
    } catch (err) {
      step = plan.throw(err);
      continue;
    }
    step = plan.next(answer);
  }
}
