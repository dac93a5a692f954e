// Waiting for a condition that async work will make true, without sleeping as an assertion: the event
// loop turns until `condition()` holds; the turn budget only guards against a hang.

/** Resolves once `condition()` is true; rejects after `maxTurns` event-loop turns. */
export async function until(condition: () => boolean, what = 'condition', maxTurns = 10_000): Promise<void> {
  for (let turn = 0; turn < maxTurns; turn++) {
    if (condition()) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throw new Error(`until: ${what} did not happen within ${maxTurns} turns`);
}

/** Lets every pending callback and I/O completion run (a few turns of the event loop). */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
