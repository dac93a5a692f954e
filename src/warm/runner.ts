import type { Engine } from '../engine/engine.js';
import { AbortError } from './errors.js';
import { addProgress, emptyProgress, errorCodeOf, type ResolvedWarmOptions, type WarmProgress } from './options.js';
import type { CacheView } from './view.js';
import { warmFile } from './warm-file.js';

/** The progress objects of the warms running on each cache (shared by its views). */
const running = new WeakMap<Engine, Set<WarmProgress>>();

/** The summed progress of the warms still running on `core`. */
export function warmingProgress(core: Engine): WarmProgress {
  let sum = emptyProgress();
  for (const p of running.get(core) ?? []) sum = addProgress(sum, p);
  return sum;
}

/** The `'warmProgress'` event's payload: the warm's progress after one file, and that file. */
export interface WarmProgressEvent extends WarmProgress {
  path: string;
  /** Present when this file failed. */
  error?: unknown;
}

/** How a run reports: `track` makes it a warm (counted in `warmingProgress`, emitting `'warmProgress'`). */
export interface RunSettings {
  track: boolean;
  /** Called after each file, before `onProgress`. */
  onFile?: (path: string, failed: boolean, error: unknown) => void;
}

/**
 * One warm (or prefetch) in progress: a small pool of workers taking files from a list in order,
 * counting progress, stopping for good at the first of: the end of the list, an abort, or (without
 * `skipErrors`) a failure. Once stopped, no load starts and nothing more is reported; loads already in
 * flight finish inside the core, which installs them by its usual rules, so the cache stays consistent.
 */
export class WarmRun {
  readonly progress: WarmProgress = emptyProgress();
  /** Keys this run loaded and still holds: an eviction of one of them counts in `evicted`. */
  private readonly loaded = new Set<string>();
  private readonly onEvict = (e: { path: string; reason: string }): void => {
    if (e.reason === 'evicted' && this.loaded.delete(e.path)) this.progress.evicted++;
  };
  private isStopped = false;
  /** Rejects the run's promise (set by {@link runWarm}). */
  private rejectRun: (err: unknown) => void = () => undefined;

  constructor(
    readonly view: CacheView,
    readonly opts: ResolvedWarmOptions,
    private readonly settings: RunSettings,
  ) {}

  get stopped(): boolean {
    return this.isStopped;
  }

  /** Stops the run and rejects it with `err` (the first caller wins). */
  fail(err: unknown): void {
    if (this.isStopped) return;
    this.isStopped = true;
    this.rejectRun(err);
  }

  /** A listing step (an unreadable directory) failed and `skipErrors` is set: it counts as a failed item. */
  listFailure(path: string, error: unknown): void {
    if (this.isStopped) return;
    this.progress.total++;
    this.countError(error);
    this.report(path, true, error);
  }

  /** Counts bytes read from the backend for this run, as they arrive (nothing once stopped). */
  private readonly countRead = (bytes: number): void => {
    if (!this.isStopped) this.progress.bytesRead += bytes;
  };

  private countError(error: unknown): void {
    this.progress.errors++;
    const code = errorCodeOf(error);
    this.progress.errorsByCode[code] = (this.progress.errorsByCode[code] ?? 0) + 1;
  }

  /** A copy that the caller may keep (the codes included). */
  private snapshot(): WarmProgress {
    return { ...this.progress, errorsByCode: { ...this.progress.errorsByCode } };
  }

  /** Runs the list, then the files; resolves with the final progress. */
  start(list: (run: WarmRun) => Promise<string[]>): Promise<WarmProgress> {
    const events = this.view.core.events;
    events.on('evict', this.onEvict);
    return new Promise<WarmProgress>((resolve, reject) => {
      this.rejectRun = reject;
      this.execute(list).then(
        () => {
          if (this.isStopped) return;
          this.isStopped = true;
          resolve(this.snapshot());
        },
        (err: unknown) => this.fail(err),
      );
    }).finally(() => {
      events.off('evict', this.onEvict);
      this.loaded.clear();
    });
  }

  private async execute(list: (run: WarmRun) => Promise<string[]>): Promise<void> {
    const paths = await list(this);
    if (this.isStopped) return;
    this.progress.total += paths.length;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (!this.isStopped && next < paths.length) {
        try {
          // A cache closed under a running warm stops it whatever `skipErrors` says.
          this.view.check('warm');
        } catch (err) {
          this.fail(err);
          return;
        }
        const path = paths[next++]!;
        let error: unknown;
        let failed = false;
        try {
          const key = await warmFile(this.view, path, this.opts.priority, () => this.isStopped, this.countRead);
          if (key !== undefined && this.view.core.store.lookup(key) >= 0) this.loaded.add(key);
        } catch (err) {
          failed = true;
          error = err;
        }
        if (this.isStopped) return;
        if (failed) {
          if (!this.opts.skipErrors) {
            this.fail(error);
            return;
          }
          this.countError(error);
        } else {
          this.progress.completed++;
        }
        this.report(path, failed, error);
      }
    };
    const workers = Math.min(this.opts.concurrency, paths.length);
    await Promise.all(Array.from({ length: workers }, worker));
  }

  /** Tells the caller about one finished item; a callback that throws stops the run with its error. */
  private report(path: string, failed: boolean, error: unknown): void {
    try {
      this.settings.onFile?.(path, failed, error);
      if (failed) this.opts.onError?.(path, error);
      if (this.settings.track && this.view.core.events.listenerCount('warmProgress') > 0) {
        const event: WarmProgressEvent = { path, ...this.snapshot() };
        if (failed) event.error = error;
        this.view.core.events.emit('warmProgress', event);
      }
      if (this.opts.onProgress) this.opts.onProgress(this.snapshot());
    } catch (err) {
      this.fail(err);
    }
  }
}

/**
 * Runs a warm: `list` produces the files (view paths), which are then loaded with the run's options.
 * An already aborted signal rejects at once, before any backend call.
 */
export async function runWarm(
  view: CacheView,
  opts: ResolvedWarmOptions,
  list: (run: WarmRun) => Promise<string[]>,
  settings: RunSettings,
): Promise<WarmProgress> {
  const signal = opts.signal;
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
  const run = new WarmRun(view, opts, settings);
  const onAbort = (): void => run.fail(new AbortError(undefined, { cause: signal?.reason }));
  signal?.addEventListener('abort', onAbort, { once: true });
  let tracked: Set<WarmProgress> | undefined;
  if (settings.track) {
    tracked = running.get(view.core);
    if (!tracked) running.set(view.core, (tracked = new Set()));
    tracked.add(run.progress);
  }
  try {
    return await run.start(list);
  } finally {
    tracked?.delete(run.progress);
    signal?.removeEventListener('abort', onAbort);
  }
}
