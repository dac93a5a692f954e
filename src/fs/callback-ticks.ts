type Callback = (err: unknown, value?: unknown) => void;

/**
 * Callbacks waiting for the next tick, as flat triples: callback, error (null for none), value. A
 * callback that asks again queues into the other array, so a resolver's chain of calls never grows
 * one array; a triple is cleared once called, so no answer given stays reachable. The arrays keep their
 * length (a count says how much is used): setting `length = 0` would free and regrow their storage
 * on every callback of a chain.
 */
let waiting: unknown[] = [];
let waitingCount = 0;
let spare: unknown[] = [];
let scheduled = false;

/**
 * Calls `cb(err)` or `cb(null, value)` on a later tick, as Node's own fs calls back, never before the
 * caller's code has run on. Answers the cache gives alone come in runs (a resolver's probes), and the
 * ones queued in one synchronous run share a single `process.nextTick` instead of taking one each.
 */
export function callBackLater(cb: Callback, err: unknown, value?: unknown): void {
  const at = waitingCount;
  waiting[at] = cb;
  waiting[at + 1] = err;
  waiting[at + 2] = value;
  waitingCount = at + 3;
  if (!scheduled) {
    scheduled = true;
    process.nextTick(callBackWaiting);
  }
}

function callBackWaiting(): void {
  // Callbacks queued by callbacks run in this same pass, after the ones before them, as ticks
  // queued by a tick do.
  while (waitingCount !== 0) {
    const batch = waiting;
    const count = waitingCount;
    waiting = spare;
    waitingCount = 0;
    let i = 0;
    try {
      for (; i < count; i += 3) {
        const cb = batch[i] as Callback;
        const err = batch[i + 1];
        const value = batch[i + 2];
        batch[i] = batch[i + 1] = batch[i + 2] = undefined;
        if (err === null) cb(null, value);
        else cb(err);
      }
    } finally {
      if (i < count) {
        // A callback threw (the process may survive it, through 'uncaughtException'): the rest
        // still get their answers, first, on a later tick.
        const rest = batch.slice(i + 3, count).concat(waiting.slice(0, waitingCount));
        waiting = rest;
        waitingCount = rest.length;
        spare = [];
        process.nextTick(callBackWaiting);
      } else {
        spare = batch;
      }
    }
  }
  scheduled = false;
}
