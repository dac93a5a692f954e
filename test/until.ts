// Waiting for a condition that async work will make true, without sleeping as an assertion: the event
// loop turns until `condition()` holds; the guard only turns a hang into a failure. The guard is time,
// not a count of turns: a turn with nothing to do takes microseconds, so a count of turns was a few
// milliseconds of wall time, which a thread-pool read on a loaded machine can outlast.

/** Resolves once `condition()` is true (checked every event-loop turn); rejects after `guardMs`. */
export async function until(condition: () => boolean, what = 'condition', guardMs = 30_000): Promise<void> {
  const deadline = Date.now() + guardMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`until: ${what} did not happen within ${guardMs} ms`);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Lets every pending callback and I/O completion run (a few turns of the event loop). */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
