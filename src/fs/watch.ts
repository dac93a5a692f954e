import { EventEmitter } from 'node:events';
import type { Engine } from '../engine/engine.js';
import { InvalidArgTypeError } from '../errors.js';
import { baseName, isWithin } from '../paths.js';
import type { WatchInvalidateEvent } from '../coherence/watcher.js';

/** One event of {@link watchChanges}, as `fs/promises`' `watch` yields them. */
export interface WatchEvent {
  eventType: 'rename' | 'change';
  filename: string | null;
}

/** Options of `watch`: Node's (`persistent` is accepted; the cache's watching never keeps a process alive). */
export interface WatchOptions {
  recursive?: boolean;
  signal?: AbortSignal;
  encoding?: BufferEncoding;
  persistent?: boolean;
}

/**
 * Subscribes `onEvent` to the changes of real path `key` (a directory: its entries, all below it with
 * `recursive`; a file: itself), named as Node names them: relative to a watched directory, the base name
 * for a watched file. Heard: every change made through the cache, and what the backend's watcher (the
 * `watch` option) or revalidation notices. Returns the unsubscribe.
 */
export function subscribeChanges(core: Engine, key: string, recursive: boolean, onEvent: (event: WatchEvent) => void): () => void {
  const report = (changed: string, eventType: 'rename' | 'change'): void => {
    if (changed === key) {
      onEvent({ eventType, filename: baseName(key) });
      return;
    }
    if (!isWithin(changed, key)) return;
    const relative = changed.slice(key === '/' ? 1 : key.length + 1);
    if (!recursive && relative.includes('/')) return; // as inotify: a directory reports its own entries
    onEvent({ eventType, filename: relative });
  };
  const fromWatcher = (event: WatchInvalidateEvent): void => {
    if (event.overflow) onEvent({ eventType: 'rename', filename: null });
    else for (const path of event.paths) report(path, 'rename');
  };
  core.cache.changeListeners.add(report);
  core.events.on('watchInvalidate', fromWatcher);
  return () => {
    core.cache.changeListeners.delete(report);
    core.events.off('watchInvalidate', fromWatcher);
  };
}

function abortError(signal: AbortSignal): Error {
  const err = new Error('The operation was aborted', { cause: signal.reason }) as Error & { code: string };
  err.name = 'AbortError';
  err.code = 'ABORT_ERR';
  return err;
}

/**
 * `fs/promises`' `watch`: an async iterator of {@link WatchEvent}s of real path `key` (see
 * {@link subscribeChanges}). It ends when its `return()` is called (a `break` out of `for await`), and
 * throws an `AbortError` once `signal` aborts, as Node's does. Events wait in a queue until asked for.
 */
export function watchChanges(core: Engine, key: string, options: WatchOptions = {}): AsyncIterableIterator<WatchEvent> {
  const { signal } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new InvalidArgTypeError('options.signal', 'an instance of AbortSignal', signal);
  const queue: WatchEvent[] = [];
  let waiting: { resolve: (r: IteratorResult<WatchEvent>) => void; reject: (e: unknown) => void } | undefined;
  let done = false;
  const unsubscribe = subscribeChanges(core, key, options.recursive === true, (event) => {
    if (done) return;
    if (waiting !== undefined) {
      const w = waiting;
      waiting = undefined;
      w.resolve({ value: event, done: false });
    } else {
      queue.push(event);
    }
  });
  const finish = (): void => {
    done = true;
    unsubscribe();
    signal?.removeEventListener('abort', onAbort);
  };
  const onAbort = (): void => {
    finish();
    if (waiting !== undefined) {
      const w = waiting;
      waiting = undefined;
      w.reject(abortError(signal!));
    }
  };
  if (signal?.aborted) finish();
  else signal?.addEventListener('abort', onAbort, { once: true });
  return {
    next(): Promise<IteratorResult<WatchEvent>> {
      if (queue.length !== 0) return Promise.resolve({ value: queue.shift()!, done: false });
      if (signal?.aborted) return Promise.reject(abortError(signal));
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve, reject) => (waiting = { resolve, reject }));
    },
    return(): Promise<IteratorResult<WatchEvent>> {
      finish();
      queue.length = 0;
      if (waiting !== undefined) waiting.resolve({ value: undefined, done: true });
      waiting = undefined;
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/**
 * `fs.watch`'s `FSWatcher` over {@link subscribeChanges}: emits `'change'` (eventType, filename) and
 * `'close'`; `close()` unsubscribes. `ref()`/`unref()` do nothing: it holds no handle.
 */
export class CacheWatcher extends EventEmitter {
  readonly #unsubscribe: () => void;
  #closed = false;

  constructor(core: Engine, key: string, recursive: boolean, listener?: (eventType: string, filename: string | null) => void) {
    super();
    if (listener !== undefined) this.on('change', listener);
    this.#unsubscribe = subscribeChanges(core, key, recursive, (e) => this.emit('change', e.eventType, e.filename));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    process.nextTick(() => this.emit('close'));
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }
}
