/**
 * Garbage collection for the measurement harness: forcing it, and seeing when it happened (the `gc`
 * PerformanceEntries that decide whether a timed phase or an allocation batch saw a collection).
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type GcFunction = () => void;

/**
 * `global.gc` when node ran with `--expose-gc` (as `npm run bench` does); otherwise the flag is set at run
 * time and the function fetched from a fresh context, so that `node dist/bench/index.js` works as well.
 */
function resolveGc(): GcFunction {
  const exposed = (globalThis as { gc?: GcFunction }).gc;
  if (typeof exposed === 'function') return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as GcFunction;
}

export const forceGc: GcFunction = resolveGc();

/** Start times (on `performance.now()`'s clock) of every collection seen since the harness was loaded. */
const gcStarts: number[] = [];
const gcObserver = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcStarts.push(entry.startTime);
});
gcObserver.observe({ entryTypes: ['gc'] });

/** Lets the event loop turn so that queued `gc` entries reach the observer (node delivers them late). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  for (const entry of gcObserver.takeRecords()) gcStarts.push(entry.startTime);
}

/** How many collections started in `[from, to]`; call after {@link settle}. */
export function gcsBetween(from: number, to: number): number {
  let n = 0;
  for (let i = gcStarts.length - 1; i >= 0; i--) {
    const t = gcStarts[i]!;
    if (t < from) break;
    if (t <= to) n++;
  }
  return n;
}

/**
 * Forces a full collection and waits until its `gc` entry has been delivered. Collects twice: V8 frees
 * dead ArrayBuffers' memory on a background thread after a collection, and the next collection waits for
 * that to finish, so after the second one `arrayBuffers` no longer shrinks under a running batch.
 */
export async function collect(): Promise<void> {
  forceGc();
  forceGc();
  await settle();
  // Old entries are only ever looked at for the current window; keep the list short.
  if (gcStarts.length > 10_000) gcStarts.splice(0, gcStarts.length - 1_000);
}

/** Disconnects the `gc` observer so that the process can exit; the harness is unusable afterwards. */
export function closeHarness(): void {
  gcObserver.disconnect();
}
