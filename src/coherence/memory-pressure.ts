import type { CacheState } from '../cache/ports.js';

/** The process's memory as the `memoryPressure` limits see it. */
export interface MemorySample {
  /** V8's heap in use plus the memory of `ArrayBuffer`s and `Buffer`s (where cached bytes live). */
  heapUsed: number;
  /** Resident set size of the process. */
  rss: number;
}

/** Payload of the `'shed'` event. */
export interface ShedEvent {
  /** Entries dropped. */
  entries: number;
  /** Bytes of cached data (as counted in `bytesUsed`) dropped. */
  bytes: number;
  /** The sample that was over a limit. */
  sample: MemorySample;
}

/** Reads the process's memory (`heapUsed` counts `arrayBuffers` too: see {@link MemorySample}). */
export function sampleMemory(): MemorySample {
  const usage = process.memoryUsage();
  return { heapUsed: usage.heapUsed + usage.arrayBuffers, rss: usage.rss };
}

/**
 * Sheds clean cache entries, coldest first, while the process uses more memory than `memoryPressure`
 * allows. Memory is sampled on an unref'd timer (every {@link MemoryPressure.intervalMs}); a sample over
 * a limit by N bytes sheds at least N bytes of cached data, in the eviction policy's order, skipping
 * dirty (unflushed) and pinned entries, which never leave this way. Each shed counts in
 * `detailedStats().bytesShed` and emits `'shed'` `{ entries, bytes, sample }`.
 *
 * `heapUsed` is compared with V8's heap *plus* `arrayBuffers`: cached file bytes live in buffers
 * outside V8's heap, so a limit on the heap alone could never be relieved by shedding them. Memory
 * comes back only when the collector runs, so the bytes shed at one sample are taken as already
 * released at the next.
 */
export class MemoryPressure {
  /** Milliseconds between samples; read when a cache is created (tests lower it). */
  static intervalMs = 1000;

  private readonly timer: NodeJS.Timeout;
  /** Bytes shed at the previous sample, not yet visible in the process's figures. */
  private inFlight = 0;

  constructor(
    private readonly core: Pick<CacheState, 'store' | 'counters' | 'events' | 'closed'>,
    private readonly limits: { maxHeapUsed?: number; maxRss?: number },
    private readonly sample: () => MemorySample = sampleMemory,
  ) {
    this.timer = setInterval(() => this.check(), MemoryPressure.intervalMs);
    this.timer.unref();
  }

  /** Takes one sample and sheds if it is over a limit; returns what was shed (undefined if nothing). */
  check(): ShedEvent | undefined {
    if (this.core.closed) return undefined;
    const sample = this.sample();
    const { maxHeapUsed, maxRss } = this.limits;
    const excess = Math.max(
      maxHeapUsed !== undefined ? sample.heapUsed - maxHeapUsed : 0,
      maxRss !== undefined ? sample.rss - maxRss : 0,
    );
    const released = this.inFlight;
    this.inFlight = 0;
    if (excess <= 0) return undefined;
    // At least one entry per sample over the limit, so that a limit the cache cannot fix still drains it.
    const target = Math.max(1, excess - released);
    const shed = this.shed(target);
    if (shed.entries === 0) return undefined;
    this.inFlight = shed.bytes;
    this.core.counters.bytesShed += shed.bytes;
    const event: ShedEvent = { ...shed, sample };
    this.core.events.emit('shed', event);
    return event;
  }

  /** Stops sampling. */
  close(): void {
    clearInterval(this.timer);
  }

  /**
   * Drops clean entries in the policy's eviction order until `bytes` of cached data have left or none
   * is left. Dirty victims are taken out of the policy's view while the loop runs (so that `victim()`
   * moves past them) and handed back at the end, untouched (the policy sees them as newly inserted).
   */
  private shed(bytes: number): { entries: number; bytes: number } {
    const store = this.core.store;
    const now = Date.now();
    const before = store.bytesUsed;
    let entries = 0;
    let skipped: number[] | undefined;
    while (before - store.bytesUsed < bytes) {
      const victim = store.policy.victim(now);
      if (victim < 0) break;
      if (store.isDirty(victim)) {
        store.park(victim);
        if (!store.isParked(victim)) break; // a policy that names a slot it no longer tracks
        (skipped ??= []).push(victim);
        continue;
      }
      store.remove(victim, 'shed');
      entries++;
    }
    if (skipped !== undefined) for (const slot of skipped) store.unpark(slot);
    return { entries, bytes: before - store.bytesUsed };
  }
}
