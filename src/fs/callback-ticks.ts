type Callback = (err: unknown, value?: unknown) => void;

/** Callbacks waiting for the next tick, as flat triples: callback, error (null for none), value. */
const waiting: unknown[] = [];
let next = 0;
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
  let finished = false;
  try {
    // A callback may queue more: they run in this same pass, in order, as ticks queued by a tick do.
    while (next < waiting.length) {
      const cb = waiting[next] as Callback;
      const err = waiting[next + 1];
      const value = waiting[next + 2];
      next += 3;
      if (err === null) cb(null, value);
      else cb(err);
    }
    finished = true;
  } finally {
    if (finished) {
      waiting.length = 0;
      next = 0;
      scheduled = false;
    } else {
      // A callback threw (the process may survive it, through 'uncaughtException'): the rest still
      // get their answers, on a later tick.
      process.nextTick(callBackWaiting);
    }
  }
}
