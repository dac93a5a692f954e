import * as fs from 'node:fs';

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

/** Where the kernel says an open descriptor leads, or undefined without procfs (or for an odd name). */
export function procPath(fd: number): string | undefined {
  try {
    return fs.readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}

const syncOps = {
  lstat: (p: string) => fs.lstatSync(p),
  realpath: (p: string) => fs.realpathSync.native(p),
  readlink: (p: string) => fs.readlinkSync(p),
  open: (p: string, flags: number, mode: number) => fs.openSync(p, flags, mode),
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
  readdir: (p: string) => fs.readdirSync(p, { withFileTypes: true }),
  mkdir: (p: string, recursive: boolean, mode: number) => fs.mkdirSync(p, { recursive, mode }),
  rmdir: (p: string) => fs.rmdirSync(p),
  unlink: (p: string) => fs.unlinkSync(p),
  rename: (from: string, to: string) => fs.renameSync(from, to),
  symlink: (target: string, p: string) => fs.symlinkSync(target, p),
  link: (existing: string, p: string) => fs.linkSync(existing, p),
  chmod: (p: string, mode: number) => fs.chmodSync(p, mode),
  lchown: (p: string, uid: number, gid: number) => fs.lchownSync(p, uid, gid),
  lutimes: (p: string, atime: number, mtime: number) => fs.lutimesSync(p, atime, mtime),
  statfs: (p: string) => fs.statfsSync(p),
};

const promised =
  <A extends unknown[], R>(fn: (...args: [...A, (err: NodeJS.ErrnoException | null, result: R) => void]) => void) =>
  (...args: A): Promise<R> =>
    new Promise<R>((resolve, reject) => {
      fn(...args, (err, result) => (err ? reject(err) : resolve(result)));
    });

const realpathNative = promised<[string], string>(fs.realpath.native);
const fstatAsync = promised<[number], fs.Stats>(fs.fstat);
/** realpath calls in flight: concurrent cold calls in one directory share one check of it. */
const resolving = new Map<string, Promise<string>>();

/** Where a descriptor leads (procfs) and its stats, both asked of the thread pool at once. */
export function inspectAsync(fd: number): Promise<[string | undefined, fs.Stats]> {
  return Promise.all([
    new Promise<string | undefined>((resolve) => fs.readlink(`/proc/self/fd/${fd}`, (err, at) => resolve(err ? undefined : at))),
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

type OpTable = { [K in Op]: (...args: Parameters<(typeof syncOps)[K]>) => unknown };

const asyncOps: OpTable = {
  lstat: promised<[string], fs.Stats>(fs.lstat),
  realpath: sharedRealpath,
  readlink: promised<[string], string>(fs.readlink),
  open: promised<[string, number, number], number>(fs.open),
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
    new Promise<fs.Dirent[]>((resolve, reject) =>
      fs.readdir(p, { withFileTypes: true }, (err, entries) => (err ? reject(err) : resolve(entries))),
    ),
  mkdir: (p, recursive, mode) =>
    new Promise<void>((resolve, reject) => fs.mkdir(p, { recursive, mode }, (err) => (err ? reject(err) : resolve()))),
  rmdir: promised<[string], void>(fs.rmdir),
  unlink: promised<[string], void>(fs.unlink),
  rename: promised<[string, string], void>(fs.rename),
  symlink: promised<[string, string], void>(fs.symlink),
  link: promised<[string, string], void>(fs.link),
  chmod: promised<[string, number], void>(fs.chmod),
  lchown: promised<[string, number, number], void>(fs.lchown),
  lutimes: promised<[string, number, number], void>(fs.lutimes),
  statfs: promised<[string], fs.StatsFs>(fs.statfs),
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
