import { FsError } from '../../errors.js';

/** Codes that mean "the server could not be reached or the connection broke", never a file system answer. */
const NETWORK_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH',
  'EHOSTDOWN', 'ENETDOWN', 'EAI_AGAIN', 'ENOTFOUND', 'ENOTCONN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * A network failure: the transport reported `code`. Attempts raise it; {@link RemoteCalls.run} retries
 * idempotent calls on it and finally turns it into an {@link FsError} naming the host.
 */
export class NetworkFailure extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'NetworkFailure';
  }
}

/** Turns any transport error into a {@link NetworkFailure} with one of Node's network codes. */
export function asNetworkFailure(err: unknown, fallback = 'ECONNRESET'): NetworkFailure {
  if (err instanceof NetworkFailure) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (typeof code === 'string' && NETWORK_CODES.has(code)) {
    return new NetworkFailure(code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 'ECONNREFUSED' : code.startsWith('UND_ERR') ? 'ECONNRESET' : code, message);
  }
  return new NetworkFailure(fallback, message);
}

export function isNetworkCode(code: unknown): boolean {
  return typeof code === 'string' && NETWORK_CODES.has(code);
}

/** What one attempt of a call may use: the time left, and a way to learn that the call gave up. */
export interface Attempt {
  /** Milliseconds left before the whole call must have failed. */
  remaining(): number;
  /** Runs `fn` if the call's time runs out while this attempt is in flight (to drop a hung connection). */
  onAbort(fn: () => void): void;
  /** Aborted when the call's time is up (made on first use: most calls never need one). */
  readonly signal: AbortSignal;
}

/** One attempt's deadline: a timer, and the callbacks to run if it fires. Cheaper than an AbortController per call. */
class AttemptState implements Attempt {
  aborted = false;
  private callbacks: (() => void)[] | undefined;
  private controller: AbortController | undefined;
  private timer: NodeJS.Timeout;
  private rejectRace: ((err: Error) => void) | undefined;

  constructor(private readonly deadline: number, private readonly timeout: number) {
    this.timer = setTimeout(() => this.abort(), Math.max(0, deadline - Date.now()));
  }

  remaining(): number {
    return this.deadline - Date.now();
  }

  onAbort(fn: () => void): void {
    (this.callbacks ??= []).push(fn);
  }

  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    if (this.aborted) this.controller.abort();
    return this.controller.signal;
  }

  /** A promise that rejects with ETIMEDOUT when the deadline passes (raced against the attempt). */
  expiry(): Promise<never> {
    return new Promise<never>((_, reject) => {
      this.rejectRace = reject;
    });
  }

  private abort(): void {
    this.aborted = true;
    this.controller?.abort();
    for (const fn of this.callbacks ?? []) fn();
    this.rejectRace?.(new NetworkFailure('ETIMEDOUT', `no answer within ${this.timeout} ms`));
  }

  finish(): void {
    clearTimeout(this.timer);
  }
}

/** How long a call that found the server unreachable makes the next calls fail at once. */
const FAIL_FAST_MS = 1000;
/** First and largest pause between two attempts of an idempotent call. */
const FIRST_BACKOFF_MS = 25;
const MAX_BACKOFF_MS = 1000;

/**
 * Runs the calls of one network backend under its `timeout`: each call gets one deadline for all its
 * attempts; a network failure is retried with bounded exponential backoff while time remains, when the
 * call is idempotent or nothing was sent yet; anything else (a file system error) fails at once.
 *
 * A call that exhausts its time leaves the backend "down" for {@link FAIL_FAST_MS}: the next calls fail at
 * once with the same code, so that a cache call that would make several backend calls against an
 * unreachable server still fails within `timeout` plus a second, not a multiple of it.
 */
export class RemoteCalls {
  private downUntil = 0;
  private downCode = 'ECONNREFUSED';

  /**
   * @param where names the server in errors (`sftp://user@host:22`); it never holds a secret.
   * @param timeout milliseconds a whole call may take.
   */
  constructor(readonly where: string, readonly timeout: number) {}

  /**
   * Runs `attempt` until it succeeds, fails with a non-network error, or the time is up.
   * `idempotent`: whether a request that may have reached the server can be sent again. `attempt` calls
   * `sent()` once it has sent something that changes the server (a non-idempotent call is not retried
   * after that).
   */
  async run<T>(
    syscall: string, path: string | undefined, dest: string | undefined, idempotent: boolean,
    attempt: (a: Attempt, sent: () => void) => Promise<T>,
  ): Promise<T> {
    const started = Date.now();
    const deadline = started + this.timeout;
    if (started < this.downUntil) throw this.networkError(this.downCode, syscall, path, dest, 'the server was unreachable moments ago');
    let backoff = FIRST_BACKOFF_MS;
    let last: NetworkFailure | undefined;
    for (;;) {
      const state = new AttemptState(deadline, this.timeout);
      let wasSent = false;
      try {
        const result = await Promise.race([attempt(state, () => { wasSent = true; }), state.expiry()]);
        this.downUntil = 0;
        return result;
      } catch (err) {
        if (!(err instanceof NetworkFailure)) throw err;
        last = err;
        if (state.aborted && last.code !== 'ETIMEDOUT') last = new NetworkFailure('ETIMEDOUT', last.message);
        const left = state.remaining();
        if ((!idempotent && wasSent) || left <= 0 || state.aborted) break;
        await new Promise((r) => setTimeout(r, Math.min(backoff, left)));
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        if (deadline - Date.now() <= 0) break;
      } finally {
        state.finish();
      }
    }
    if (Date.now() >= deadline) {
      this.downUntil = Date.now() + FAIL_FAST_MS;
      this.downCode = last.code;
    }
    throw this.networkError(last.code, syscall, path, dest, last.message);
  }

  /** An fs-style error for a network failure, naming the server (never a secret). */
  networkError(code: string, syscall: string, path: string | undefined, dest: string | undefined, detail: string): FsError {
    const description = code === 'ECONNREFUSED' ? 'connection refused' : code === 'ETIMEDOUT' ? 'connection timed out' : 'connection reset by peer';
    const err = new FsError(code, syscall, path, dest, `${description} by ${this.where} (${detail})`);
    (err as { cause?: unknown }).cause = new Error(`${code} ${this.where}: ${detail}`);
    return err;
  }
}
