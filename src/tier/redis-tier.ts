import { Redis, type RedisOptions } from 'ioredis';
import { changeHead, contentMessageHead, decodeRawMessage, encodeMessage, encodeValue, decodeValue, scopeArgument, TierKeys, Tokens, type RedisBytes } from './codec.js';
import type { ResolvedTierOptions } from './options.js';
import type { TierListener, TierLookup, TierPort, TierPublication, TierScope } from './port.js';
import { BUMP_ALL, BUMP_PATH, BUMP_PREFIX, EXTEND, LOOKUP, RELEASE, STORE, type Script } from './scripts.js';

const FAILED: unique symbol = Symbol('tier call failed');
const NOTHING: TierLookup = Object.freeze({ bytes: undefined, version: undefined });
/** While the tier is down, how often it tries to come back (reconnects themselves are ioredis's). */
const PROBE_MS = 500;
/** How often a process waiting on another's load looks again when no "loaded" notice arrived. */
const POLL_MS = 25;
/** Changes queued while Redis is away; beyond this, one namespace-wide change replaces them. */
const MAX_PENDING = 10_000;
/**
 * Timeouts in a row that open the circuit. One slow answer on a busy machine is not an outage; a
 * closed connection opens it at once.
 */
const TIMEOUTS_TO_OPEN = 3;
/**
 * A change Redis refused while the circuit stayed closed (an error answer, or one slow answer) is
 * published again after this long, doubling up to {@link REPUBLISH_MAX_MS} while Redis keeps refusing:
 * the others must not keep the older bytes until the next outage.
 */
const REPUBLISH_FIRST_MS = 20;
const REPUBLISH_MAX_MS = 1000;
/** Content up to this size travels in the change's message: the others install it without a round trip. */
const PUSH_MAX_BYTES = 64 * 1024;

/**
 * Reconnect quickly (the tier must be back within 5 s of Redis), and never queue a command while the
 * connection is down: a call fails at once and the cache goes on with the backend. Nor resend, after a
 * reconnect, a command the lost connection left unanswered: the call already counted as failed and the
 * tier publishes that change again itself, while a change that carried its bytes, run again late, would
 * put them back in Redis over a newer write from another process.
 */
const OWN_CLIENT: RedisOptions = {
  enableOfflineQueue: false,
  autoResendUnfulfilledCommands: false,
  maxRetriesPerRequest: 1,
  connectTimeout: 1000,
  retryStrategy: (attempt: number) => Math.min(attempt * 100, 500),
};

/** A call that took longer than the tier's `timeout`. */
export class TierTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(ms: number) {
    super(`cachefs tier: Redis did not answer within ${ms} ms`);
  }
}

function isReplyError(err: unknown): boolean {
  return err instanceof Error && err.name === 'ReplyError';
}

/**
 * The shared tier on Redis (see docs/tier.md). One connection carries commands, a second one the
 * invalidation channel. A circuit breaker keeps the cache off Redis while it is unreachable or slow:
 * every call is bounded by `timeout`; a failure that is not Redis refusing a command opens the
 * circuit, and it closes again once both connections are ready and a ping answers.
 */
export class RedisTier implements TierPort {
  readonly strict: boolean;
  readonly maxFileBytes: number;
  private readonly keys: TierKeys;
  private readonly tokens = new Tokens();
  private readonly client: Redis;
  private readonly subscriber: Redis;
  private readonly ownsClient: boolean;
  private listener: TierListener | undefined;
  private up = false;
  private downReported = false;
  /** The invalidation channel was down since the last recovery: messages may have been missed. */
  private channelLost = true;
  private timeoutsInARow = 0;
  private recovering = false;
  private probeTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly pending = new Map<string, TierScope>();
  private pendingAll = false;
  private republishTimer: NodeJS.Timeout | undefined;
  private republishMs = REPUBLISH_FIRST_MS;
  private readonly waiters = new Map<string, Set<(notified: boolean) => void>>();
  private readonly notices = new Map<string, number>();
  private waits = 0;
  private waitedMs = 0;

  constructor(private readonly opts: ResolvedTierOptions) {
    this.strict = opts.consistency === 'strict';
    this.maxFileBytes = opts.maxFileBytes;
    this.keys = new TierKeys(opts.namespace);
    if (typeof opts.redis === 'string') {
      this.client = new Redis(opts.redis, OWN_CLIENT);
      this.ownsClient = true;
    } else {
      this.client = opts.redis;
      this.ownsClient = false;
    }
    this.subscriber = this.client.duplicate(OWN_CLIENT);
    for (const connection of [this.client, this.subscriber]) {
      // Errors also arrive as 'close'; a listener keeps ioredis from printing each reconnect attempt.
      connection.on('error', () => undefined);
      connection.on('close', () => {
        if (connection === this.subscriber) this.channelLost = true;
        this.lost(new Error('cachefs tier: connection to Redis closed'));
      });
      connection.on('ready', () => this.recover());
    }
    this.subscriber.on('messageBuffer', (_channel: Buffer, raw: Buffer) => this.onMessage(raw));
    this.recover();
  }

  attach(listener: TierListener): void {
    this.listener = listener;
  }

  available(): boolean {
    return this.up;
  }

  // ---------------------------------------------------------------- reads

  async lookup(path: string, withBytes: boolean): Promise<TierLookup> {
    if (!this.up) return NOTHING;
    const keys = this.keys.versionKeys(path);
    if (withBytes) keys.push(this.keys.data(path));
    const reply = await this.call(() => this.eval(LOOKUP, keys, [this.tokens.fresh(), withBytes ? '1' : '0'], true));
    if (reply === FAILED || !Array.isArray(reply) || !Buffer.isBuffer(reply[0])) return NOTHING;
    const version = reply[0].toString('latin1');
    const bytes = withBytes ? decodeValue(reply[1] as Buffer | null, version) : undefined;
    return { version, bytes };
  }

  async validate(path: string, version: string): Promise<boolean> {
    const found = await this.lookup(path, false);
    return found.version === version;
  }

  store(path: string, bytes: Uint8Array, version: string): Promise<boolean> {
    if (!this.up || bytes.length > this.maxFileBytes) return Promise.resolve(false);
    // Framed now, before any await: `bytes` may be the cache's own memory, reused after this tick.
    const value = encodeValue(version, bytes);
    const keys = this.keys.versionKeys(path);
    keys.push(this.keys.data(path));
    return this.call(() => this.eval(STORE, keys, [version, value, String(this.opts.ttl)])).then((stored) => stored === 1);
  }

  // ---------------------------------------------------------------- changes

  async published(scope: TierScope, content?: Uint8Array, expected?: string): Promise<TierPublication | undefined> {
    if (this.closed) return undefined;
    if (!this.up) {
      this.queue(scope);
      return undefined;
    }
    const shared = content !== undefined && content.length <= this.maxFileBytes ? Buffer.from(content) : undefined;
    const reply = await this.call(() => this.bump(scope, shared, expected));
    if (reply === FAILED) {
      // It may have reached Redis before the failure; publishing it again later costs only a miss.
      this.queue(scope);
      this.republishSoon();
      return undefined;
    }
    if (scope.kind !== 'path' || !Array.isArray(reply) || !Buffer.isBuffer(reply[0])) return undefined;
    return { version: reply[0].toString('latin1'), raced: reply[1] === 1 };
  }

  /**
   * Publishes the queue again soon while the circuit is closed (when it is open, the recovery does).
   * Redis that answers but refuses (out of memory, say) would otherwise leave the others with the older
   * bytes until the next outage, even in 'strict'.
   */
  private republishSoon(): void {
    if (this.republishTimer !== undefined || this.closed) return;
    this.republishTimer = setTimeout(() => {
      this.republishTimer = undefined;
      if (!this.up || this.closed || !this.hasPending()) return;
      void this.publishPending().then((done) => {
        this.republishMs = done ? REPUBLISH_FIRST_MS : Math.min(2 * this.republishMs, REPUBLISH_MAX_MS);
        if (!done) this.republishSoon();
      });
    }, this.republishMs);
    this.republishTimer.unref();
  }

  private bump(scope: TierScope, content?: Buffer, expected?: string): Promise<unknown> {
    const from = this.tokens.processId;
    const args: RedisBytes[] = [this.tokens.fresh(), this.keys.channel, changeHead(from, scope), scopeArgument(scope)];
    if (scope.kind === 'path') {
      const keys = this.keys.versionKeys(scope.path);
      keys.push(this.keys.data(scope.path));
      if (content === undefined) args.push('0', '', '0', '', '');
      else if (content.length > PUSH_MAX_BYTES) args.push('1', content, String(this.opts.ttl), '', expected ?? '');
      else args.push('2', content, String(this.opts.ttl), contentMessageHead(from, scope.path), expected ?? '');
      return this.eval(BUMP_PATH, keys, args, true);
    }
    if (scope.kind === 'prefix' && scope.prefix !== '/') {
      const p = scope.prefix;
      return this.eval(BUMP_PREFIX, [this.keys.clock, this.keys.prefixToken(p), this.keys.pathToken(p), this.keys.data(p)], args);
    }
    return this.eval(BUMP_ALL, [this.keys.clock, this.keys.epoch], [args[0]!, args[1]!, changeHead(from, { kind: 'all' })]);
  }

  private queue(scope: TierScope): void {
    if (this.pendingAll) return;
    if (scope.kind === 'all' || (scope.kind === 'prefix' && scope.prefix === '/') || this.pending.size >= MAX_PENDING) {
      this.pendingAll = true;
      this.pending.clear();
      return;
    }
    this.pending.set(scope.kind === 'path' ? `p${scope.path}` : `r${scope.prefix}`, scope);
  }

  /**
   * Publishes what changed while Redis was away, until nothing is queued; false if Redis failed again
   * meanwhile (what was not published stays queued). Changes keep arriving while it awaits Redis (the
   * circuit is still open, so they are queued): each change leaves the queue before its bump is sent,
   * so one queued again meanwhile stays queued, and the loop runs until the queue is empty.
   */
  private async publishPending(): Promise<boolean> {
    while (this.hasPending()) {
      if (this.pendingAll) {
        this.pendingAll = false;
        this.pending.clear();
        if ((await this.call(() => this.bump({ kind: 'all' }), true)) === FAILED) {
          this.queue({ kind: 'all' });
          return false;
        }
        continue;
      }
      const [id, scope] = this.pending.entries().next().value as [string, TierScope];
      this.pending.delete(id);
      if ((await this.call(() => this.bump(scope), true)) === FAILED) {
        this.queue(scope);
        return false;
      }
    }
    return true;
  }

  private hasPending(): boolean {
    return this.pendingAll || this.pending.size > 0;
  }

  // ---------------------------------------------------------------- the cross-process load lock

  async withLoadLock<T>(path: string, shared: () => Promise<T | undefined>, load: () => Promise<T>): Promise<T> {
    if (!this.up) return load();
    const key = this.keys.lock(path);
    const token = this.tokens.fresh();
    const ttl = String(this.opts.lockTtl);
    const started = performance.now();
    const deadline = started + Math.max(5000, 2 * this.opts.lockTtl);
    let waited = false;
    for (;;) {
      const seen = this.notices.get(path) ?? 0;
      const got = await this.call(() => this.client.set(key, token, 'PX', ttl, 'NX'));
      if (got === FAILED) return load();
      if (got === 'OK') {
        if (waited) this.recordWait(started);
        // Looked again even when the lock was free at once: the caller's look in Redis came before the
        // lock attempt, and a process slowed in between (a loaded machine) finds the lock free because
        // another one loaded, stored and released it meanwhile; the bytes are then in Redis (stored before
        // the release), and reading the backend again is the duplicate load the lock exists to prevent.
        return this.holding(path, key, token, shared, load);
      }
      waited = true;
      // A notice that arrived between our look and the lock attempt counts as one we waited for.
      const notified = (this.notices.get(path) ?? 0) !== seen || (await this.waitLoaded(path, POLL_MS));
      const found = await shared();
      if (found !== undefined) {
        this.recordWait(started);
        return found;
      }
      // The holder finished without sharing (a file too large, a failed read), the tier went away, or
      // we waited long enough: read the backend ourselves rather than queue behind one another.
      if (notified || !this.up || performance.now() > deadline) {
        this.recordWait(started);
        return load();
      }
    }
  }

  private async holding<T>(path: string, key: RedisBytes, token: string, shared: () => Promise<T | undefined>, load: () => Promise<T>): Promise<T> {
    const ttl = String(this.opts.lockTtl);
    const beat = setInterval(() => void this.call(() => this.eval(EXTEND, [key], [token, ttl])), Math.max(5, this.opts.lockTtl / 3));
    beat.unref();
    try {
      const found = await shared();
      return found !== undefined ? found : await load();
    } finally {
      clearInterval(beat);
      // Sent after the load's store on the same connection, so a woken waiter finds the bytes.
      const notice = encodeMessage(this.tokens.processId, { loaded: path });
      void this.call(() => this.eval(RELEASE, [key], [token, this.keys.channel, notice]));
    }
  }

  private waitLoaded(path: string, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      let set = this.waiters.get(path);
      if (!set) this.waiters.set(path, (set = new Set()));
      const done = (notified: boolean): void => {
        clearTimeout(timer);
        set!.delete(done);
        if (set!.size === 0 && this.waiters.get(path) === set) this.waiters.delete(path);
        resolve(notified);
      };
      const timer = setTimeout(() => done(false), ms);
      set.add(done);
    });
  }

  private recordWait(started: number): void {
    this.waits++;
    this.waitedMs += performance.now() - started;
  }

  lockWaits(): { count: number; totalMs: number } {
    return { count: this.waits, totalMs: this.waitedMs };
  }

  // ---------------------------------------------------------------- messages

  private onMessage(raw: Buffer): void {
    const message = decodeRawMessage(raw);
    if (!message) return;
    if ('loaded' in message) {
      const path = message.loaded;
      if (this.notices.size > 10_000) this.notices.clear();
      this.notices.set(path, (this.notices.get(path) ?? 0) + 1);
      const set = this.waiters.get(path);
      if (set) for (const wake of [...set]) wake(true);
      return;
    }
    if (message.from === this.tokens.processId) return; // our own change, already applied here
    this.listener?.invalidated(message.scope, message.version, message.content);
  }

  // ---------------------------------------------------------------- health

  /**
   * Runs one Redis call bounded by the tier's timeout. Never rejects: a failure counts as a tier error,
   * and one that is not Redis refusing the command opens the circuit.
   */
  private async call<T>(fn: () => Promise<T>, evenIfDown = false): Promise<T | typeof FAILED> {
    if ((!this.up && !evenIfDown) || this.closed) return FAILED;
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await new Promise<T>((resolve, reject) => {
        timer = setTimeout(() => reject(new TierTimeoutError(this.opts.timeout)), this.opts.timeout);
        fn().then(resolve, reject);
      });
      this.timeoutsInARow = 0;
      return result;
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      this.listener?.failed(error);
      if (err instanceof TierTimeoutError) {
        if (++this.timeoutsInARow >= TIMEOUTS_TO_OPEN) this.lost(error);
      } else if (!isReplyError(err)) {
        this.lost(error);
      }
      return FAILED;
    } finally {
      clearTimeout(timer);
    }
  }

  private async eval(script: Script, keys: RedisBytes[], args: RedisBytes[], buffer = false): Promise<unknown> {
    const c = this.client;
    try {
      return buffer ? await c.callBuffer('EVALSHA', script.sha, keys.length, ...keys, ...args) : await c.call('EVALSHA', script.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return buffer ? c.callBuffer('EVAL', script.source, keys.length, ...keys, ...args) : c.call('EVAL', script.source, keys.length, ...keys, ...args);
    }
  }

  /** The circuit opens: the cache goes on without the tier until {@link recover} succeeds. */
  private lost(error: Error): void {
    if (this.closed) return;
    const wasUp = this.up;
    this.up = false;
    if (wasUp || !this.downReported) {
      this.downReported = true;
      this.listener?.down(error);
    }
    this.probe();
  }

  private probe(): void {
    if (this.probeTimer !== undefined) return;
    this.probeTimer = setInterval(() => this.recover(), PROBE_MS);
    this.probeTimer.unref();
  }

  /**
   * Closes the circuit when both connections are ready and Redis answers: first everything cached here
   * is dropped (invalidations may have been missed), then the changes made meanwhile are published.
   */
  private recover(): void {
    if (this.up || this.recovering || this.closed) return;
    if (this.client.status !== 'ready' || this.subscriber.status !== 'ready') return;
    this.recovering = true;
    void (async () => {
      try {
        if ((await this.call(() => this.subscriber.subscribe(this.keys.channel), true)) === FAILED) return;
        for (const s of [LOOKUP, STORE, BUMP_PATH, BUMP_PREFIX, BUMP_ALL, RELEASE, EXTEND]) {
          if ((await this.call(() => this.client.call('SCRIPT', 'LOAD', s.source), true)) === FAILED) return;
        }
        if (this.channelLost) {
          this.channelLost = false;
          this.listener?.invalidated({ kind: 'all' });
        }
        // The circuit closes in the same tick as the queue is found empty: a change queued after the
        // last look would otherwise stay unpublished until the next outage, while the other processes,
        // even in 'strict', keep confirming their older copies.
        do {
          if (!(await this.publishPending())) return;
          if (this.closed || this.client.status !== 'ready' || this.subscriber.status !== 'ready') return;
        } while (this.hasPending());
        this.up = true;
        this.downReported = false;
        this.timeoutsInARow = 0;
        if (this.probeTimer) clearInterval(this.probeTimer);
        this.probeTimer = undefined;
        this.listener?.up();
      } finally {
        this.recovering = false;
        // An attempt that failed (a timeout on a busy Redis, say) is tried again, not left to the next 'ready'.
        if (!this.up && !this.closed) this.probe();
      }
    })();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.up && this.hasPending()) await this.publishPending();
    this.closed = true;
    this.up = false;
    if (this.probeTimer) clearInterval(this.probeTimer);
    if (this.republishTimer) clearTimeout(this.republishTimer);
    for (const set of this.waiters.values()) for (const wake of [...set]) wake(false);
    this.subscriber.disconnect();
    if (this.ownsClient) this.client.disconnect();
  }
}
