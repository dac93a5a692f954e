import type { Backend, BackendFile, BackendWatcher } from '../src/backend/backend.js';
import { FsError } from '../src/errors.js';

/** Every method of {@link Backend} a fault can be injected into (all but `watch`, which is synchronous). */
export type FaultOperation =
  | 'stat' | 'lstat' | 'readFile' | 'writeFile' | 'readdir' | 'mkdir' | 'rmdir' | 'unlink' | 'rename'
  | 'truncate' | 'chmod' | 'utimes' | 'symlink' | 'readlink' | 'read' | 'write' | 'realpath' | 'chown'
  | 'copyFile' | 'close' | 'open' | 'link' | 'lchown' | 'lutimes' | 'statfs';

/** The operations that change the backend. */
export type WriteOperation = Extract<
  FaultOperation,
  | 'writeFile' | 'write' | 'truncate' | 'rename' | 'unlink' | 'rmdir' | 'mkdir' | 'chmod' | 'utimes' | 'symlink' | 'copyFile' | 'chown'
  | 'link' | 'lchown' | 'lutimes'
>;

/** Every {@link WriteOperation}; {@link FaultController.failWrites} fails all of them. */
export const WRITE_OPERATIONS: readonly WriteOperation[] = Object.freeze([
  'writeFile', 'write', 'truncate', 'rename', 'unlink', 'rmdir', 'mkdir', 'chmod', 'utimes', 'symlink',
  'copyFile', 'chown', 'link', 'lchown', 'lutimes',
] satisfies WriteOperation[]);

const ASYNC_OPERATIONS: readonly FaultOperation[] = [
  'stat', 'lstat', 'readFile', 'writeFile', 'readdir', 'mkdir', 'rmdir', 'unlink', 'rename', 'truncate',
  'chmod', 'utimes', 'symlink', 'readlink', 'read', 'write', 'realpath', 'chown', 'copyFile', 'close',
  'open', 'link', 'lchown', 'lutimes', 'statfs',
];

/** The error code of an injected fault; the usual ones are listed, any `E…` code is accepted. */
export type FaultCode = 'EIO' | 'ENOSPC' | 'ENOTDIR' | 'ETIMEDOUT' | 'EACCES' | 'ENOENT' | (string & {});

/**
 * When an injected failure strikes: `'before'` (default) rejects without calling the inner backend, as
 * if the request never reached it; `'after'` lets the inner call complete and then rejects, as a lost
 * acknowledgement would (the change happened, the caller is told it failed).
 */
export type FaultTiming = 'before' | 'after';

/** One "fail the Nth call" rule. */
export interface NthFault {
  op: FaultOperation;
  /** 1-based: `1` is the next call of `op` after the rule is installed. */
  n: number;
  code: FaultCode;
  when?: FaultTiming;
}

/** Faults in force from the start; everything here can also be set later through {@link FaultController}. */
export interface FaultPlan {
  /** Calls to fail once each (counted from the creation of the wrapper). */
  failNth?: NthFault[];
  /** Fail every write operation with this code until {@link FaultController.heal}. */
  failWrites?: FaultCode;
  /** Fail every call of these operations until {@link FaultController.heal}. */
  failAlways?: { ops: FaultOperation[]; code: FaultCode; when?: FaultTiming };
  /** Fixed delay in ms before each call of an operation reaches the inner backend. */
  latency?: Partial<Record<FaultOperation, number>>;
  /**
   * Passes the inner backend's `realPathOnOpen` on, so that a cold `readFile` opens the file (`open`,
   * `stat`, `read`) instead of calling `realpath` and `readFile`. Off by default: tests that gate or fail
   * `readFile` keep the path they were written for.
   */
  realPathOnOpen?: boolean;
}

/**
 * Where a gate holds a call: `'after'` (default) once the inner backend has carried it out, holding its
 * result or error, a response in flight (a read that fetched the old data and returns only after the test
 * wrote new data); `'before'`, before the call reaches the inner backend, a request in flight.
 */
export type GatePoint = 'before' | 'after';

/** A gate holding calls of one operation until released. */
export interface FaultGate {
  /** Lets every held call (and later ones) through. Idempotent. */
  release(): void;
  /** Resolves once a call is waiting at the gate, so a test can act while that call is in flight. */
  readonly reached: Promise<void>;
  /** How many calls are waiting at the gate now. */
  readonly waiting: number;
}

/** Run-time control of a {@link faultyBackend}. */
export interface FaultController {
  /** Calls per operation since creation or {@link resetCalls}, failed and delayed ones included. */
  readonly calls: Record<FaultOperation, number>;
  /** Fails the `n`th call of `op` from now (1 = the next one) with `code`. */
  failNth(op: FaultOperation, n: number, code: FaultCode, when?: FaultTiming): void;
  /** Shorthand for `failNth(op, 1, code, when)`. */
  failNext(op: FaultOperation, code: FaultCode, when?: FaultTiming): void;
  /** Fails every call of `ops` with `code` until {@link heal}. */
  failAlways(ops: readonly FaultOperation[], code: FaultCode, when?: FaultTiming): void;
  /** Fails every write operation ({@link WRITE_OPERATIONS}) with `code` until {@link heal}. */
  failWrites(code: FaultCode, when?: FaultTiming): void;
  /** Ends every failure, pending `failNth` rules included. Latency and gates are left alone. */
  heal(): void;
  /** Delays each later call of `op` by `ms` (0 removes the delay). */
  latency(op: FaultOperation, ms: number): void;
  /** Holds every later call of `op`, at `at`, until the returned gate is released. */
  gate(op: FaultOperation, at?: GatePoint): FaultGate;
  /** Releases every gate and removes every delay. */
  releaseAll(): void;
  /** Sets every counter of {@link calls} back to 0. */
  resetCalls(): void;
}

interface Failure {
  code: string;
  when: FaultTiming;
}

interface GateState {
  at: GatePoint;
  promise: Promise<void>;
  open: () => void;
  arrived: () => void;
  waiting: number;
}

/**
 * Wraps a real backend so that tests can make its calls fail, slow down or wait, and count them. Only the
 * methods the inner backend has are wrapped; an optional method it lacks stays absent. Injected errors
 * are {@link FsError}s with the call's paths, the operation's name as `syscall`, and `injected: true`.
 */
export function faultyBackend(inner: Backend, plan: FaultPlan = {}): Backend & { faults: FaultController } {
  const calls = Object.fromEntries(ASYNC_OPERATIONS.map((op) => [op, 0])) as Record<FaultOperation, number>;
  const nth = new Map<FaultOperation, Map<number, Failure>>(); // op -> call number -> failure
  const always = new Map<FaultOperation, Failure>();
  const delays = new Map<FaultOperation, number>();
  const gates = new Map<FaultOperation, Set<GateState>>();

  const controller: FaultController = {
    calls,
    failNth(op, n, code, when = 'before') {
      if (!Number.isInteger(n) || n < 1) throw new RangeError(`failNth: n must be an integer >= 1, got ${n}`);
      let rules = nth.get(op);
      if (!rules) nth.set(op, (rules = new Map()));
      rules.set(calls[op] + n, { code, when });
    },
    failNext(op, code, when = 'before') {
      controller.failNth(op, 1, code, when);
    },
    failAlways(ops, code, when = 'before') {
      for (const op of ops) always.set(op, { code, when });
    },
    failWrites(code, when = 'before') {
      controller.failAlways(WRITE_OPERATIONS, code, when);
    },
    heal() {
      always.clear();
      nth.clear();
    },
    latency(op, ms) {
      if (ms > 0) delays.set(op, ms);
      else delays.delete(op);
    },
    gate(op, at = 'after') {
      let open!: () => void;
      let arrived!: () => void;
      const promise = new Promise<void>((resolve) => (open = resolve));
      const reached = new Promise<void>((resolve) => (arrived = resolve));
      const state: GateState = { at, promise, open, arrived, waiting: 0 };
      let set = gates.get(op);
      if (!set) gates.set(op, (set = new Set()));
      set.add(state);
      return {
        release() {
          gates.get(op)?.delete(state);
          state.open();
        },
        reached,
        get waiting() {
          return state.waiting;
        },
      };
    },
    releaseAll() {
      for (const set of gates.values()) for (const state of set) state.open();
      gates.clear();
      delays.clear();
    },
    resetCalls() {
      // Pending Nth rules are numbered by call count; keep them pointing at the same future calls.
      for (const [op, rules] of nth) {
        const shifted = new Map<number, Failure>();
        for (const [at, failure] of rules) shifted.set(at - calls[op], failure);
        nth.set(op, shifted);
      }
      for (const op of ASYNC_OPERATIONS) calls[op] = 0;
    },
  };

  for (const rule of plan.failNth ?? []) controller.failNth(rule.op, rule.n, rule.code, rule.when);
  if (plan.failWrites !== undefined) controller.failWrites(plan.failWrites);
  if (plan.failAlways) controller.failAlways(plan.failAlways.ops, plan.failAlways.code, plan.failAlways.when);
  for (const [op, ms] of Object.entries(plan.latency ?? {})) controller.latency(op as FaultOperation, ms);

  const hold = async (op: FaultOperation, at: GatePoint): Promise<void> => {
    const held = [...(gates.get(op) ?? [])].filter((state) => state.at === at);
    if (held.length === 0) return;
    for (const state of held) {
      state.waiting++;
      state.arrived();
    }
    try {
      await Promise.all(held.map((state) => state.promise));
    } finally {
      for (const state of held) state.waiting--;
    }
  };

  /**
   * Counts the call and decides its fate at once (so "the 3rd call" is the 3rd made, whatever the
   * delays), then: latency, 'before' gates, the inner call (unless failing before), 'after' gates.
   */
  const call = async <T>(op: FaultOperation, path: string | undefined, dest: string | undefined, fn: () => Promise<T>): Promise<T> => {
    const number = ++calls[op];
    let failure = always.get(op);
    const rules = nth.get(op);
    const planned = rules?.get(number);
    if (planned) {
      rules!.delete(number);
      failure ??= planned;
    }
    const delay = delays.get(op);
    if (delay !== undefined) await new Promise((resolve) => setTimeout(resolve, delay));
    await hold(op, 'before');
    const injected = (f: Failure) => Object.assign(new FsError(f.code, op, path, dest), { injected: true });
    let outcome: { ok: true; value: T } | { ok: false; error: unknown };
    if (failure?.when === 'before') {
      outcome = { ok: false, error: injected(failure) };
    } else {
      try {
        outcome = { ok: true, value: await fn() };
      } catch (error) {
        outcome = { ok: false, error };
      }
      if (failure && outcome.ok) outcome = { ok: false, error: injected(failure) };
    }
    await hold(op, 'after');
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  };

  // Built method by method (not with a Proxy) so that `'read' in backend` reflects the inner backend.
  const wrapped: Backend & { faults: FaultController } = {
    name: `faulty(${inner.name ?? 'backend'})`,
    faults: controller,
    ...(plan.realPathOnOpen === true && inner.realPathOnOpen !== undefined ? { realPathOnOpen: inner.realPathOnOpen } : {}),
    stat: (p) => call('stat', p, undefined, () => inner.stat(p)),
    lstat: (p) => call('lstat', p, undefined, () => inner.lstat(p)),
    readFile: (p) => call('readFile', p, undefined, () => inner.readFile(p)),
    writeFile: (p, data, options) => call('writeFile', p, undefined, () => inner.writeFile(p, data, options)),
    readdir: (p) => call('readdir', p, undefined, () => inner.readdir(p)),
    mkdir: (p, options) => call('mkdir', p, undefined, () => inner.mkdir(p, options)),
    rmdir: (p) => call('rmdir', p, undefined, () => inner.rmdir(p)),
    unlink: (p) => call('unlink', p, undefined, () => inner.unlink(p)),
    rename: (from, to) => call('rename', from, to, () => inner.rename(from, to)),
    truncate: (p, length) => call('truncate', p, undefined, () => inner.truncate(p, length)),
    chmod: (p, mode) => call('chmod', p, undefined, () => inner.chmod(p, mode)),
    utimes: (p, a, m) => call('utimes', p, undefined, () => inner.utimes(p, a, m)),
    symlink: (target, p) => call('symlink', target, p, () => inner.symlink(target, p)),
    readlink: (p) => call('readlink', p, undefined, () => inner.readlink(p)),
  };
  const { read, write, realpath, chown, copyFile, watch, close } = inner;
  if (read) {
    wrapped.read = (p, into, offset, length, position) =>
      call('read', p, undefined, () => read.call(inner, p, into, offset, length, position));
  }
  if (write) wrapped.write = (p, data, position) => call('write', p, undefined, () => write.call(inner, p, data, position));
  if (realpath) wrapped.realpath = (p) => call('realpath', p, undefined, () => realpath.call(inner, p));
  if (chown) wrapped.chown = (p, uid, gid) => call('chown', p, undefined, () => chown.call(inner, p, uid, gid));
  if (copyFile) {
    wrapped.copyFile = (src, dest, mode) => call('copyFile', src, dest, () => copyFile.call(inner, src, dest, mode));
  }
  if (watch) {
    wrapped.watch = (onChange, onError): BackendWatcher => watch.call(inner, onChange, onError);
  }
  if (close) wrapped.close = () => call('close', undefined, undefined, () => close.call(inner));
  const { link, lchown, lutimes, statfs, open } = inner;
  if (link) wrapped.link = (existing, p) => call('link', existing, p, () => link.call(inner, existing, p));
  if (lchown) wrapped.lchown = (p, uid, gid) => call('lchown', p, undefined, () => lchown.call(inner, p, uid, gid));
  if (lutimes) wrapped.lutimes = (p, a, m) => call('lutimes', p, undefined, () => lutimes.call(inner, p, a, m));
  if (statfs) wrapped.statfs = (p) => call('statfs', p, undefined, () => statfs.call(inner, p));
  if (open) {
    // An open file's calls count and fail as the path calls they stand for: a fault on 'read' strikes a
    // read however the engine reads. The sync face is not passed on: faults and delays are asynchronous.
    wrapped.open = async (p, flags) => {
      const file = await call('open', p, undefined, () => open.call(inner, p, flags));
      const faulty: BackendFile = {
        ...(file.realPath !== undefined ? { realPath: file.realPath } : {}),
        read: (into, offset, length, position) =>
          call('read', p, undefined, () => file.read(into, offset, length, position)),
        stat: () => call('stat', p, undefined, () => file.stat()),
        close: () => file.close(),
      };
      const { write: fileWrite, truncate: fileTruncate, sync: fileSync } = file;
      if (fileWrite) {
        faulty.write = (data, offset, length, position) =>
          call('write', p, undefined, () => fileWrite.call(file, data, offset, length, position));
      }
      if (fileTruncate) faulty.truncate = (length) => call('truncate', p, undefined, () => fileTruncate.call(file, length));
      if (fileSync) faulty.sync = () => fileSync.call(file);
      return faulty;
    };
  }
  return wrapped;
}
