type Callback = (err: unknown, value?: unknown) => void;

/**
 * Callbacks waiting for the next tick, as flat triples: callback, error (null for none), value. A
 * callback that asks again queues into the other array, so a resolver's chain of calls never grows
 * one array, nor keeps the answers it already gave reachable.
 */
let waiting: unknown[] = [];
let spare: unknown[] = [];
let scheduled = false;

/**
 * Calls `cb(err)` or `cb(null, value)` on a later tick, as Node's own fs calls back, never before the
 * caller's code has run on. Answers the cache gives alone come in runs (a resolver's probes), and the
 * ones queued in one synchronous run share a single `process.nextTick` instead of taking one each.
 */
export function callBackLater(cb: Callback, err: unknown, value?: unknown): void {
  waiting.push(cb, err, value);
  if (!scheduled) {
    scheduled = true;
    process.nextTick(callBackWaiting);
  }
}

function callBackWaiting(): void {
  // Callbacks queued by callbacks run in this same pass, after the ones before them, as ticks
  // queued by a tick do.
  while (waiting.length !== 0) {
    const batch = waiting;
    waiting = spare;
    let i = 0;
    try {
      for (; i < batch.length; i += 3) {
        const cb = batch[i] as Callback;
        const err = batch[i + 1];
        const value = batch[i + 2];
        if (err === null) cb(null, value);
        else cb(err);
      }
    } finally {
      if (i < batch.length) {
        // A callback threw (the process may survive it, through 'uncaughtException'): the rest
        // still get their answers, first, on a later tick.
        waiting = batch.slice(i + 3).concat(waiting);
        spare = [];
        process.nextTick(callBackWaiting);
      } else {
        batch.length = 0;
        spare = batch;
      }
    }
  }
  scheduled = false;
}
