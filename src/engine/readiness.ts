/**
 * When a cache can serve: at once, or, with a journal, once the acknowledged writes of an earlier
 * process were replayed to the backend. One promise for every public call: each awaits {@link gate}
 * first while it is set, so nothing (a read, a write, a warm, a batch call) runs before the replay ends.
 */
export class Readiness {
  /** Resolves when the cache can serve; rejects with the replay's error. */
  readonly ready: Promise<void>;
  /**
   * What a public call must await before it runs: the replay while it is in progress, and for good
   * after it failed (every call then rejects with its error); `undefined` once the cache can serve, so
   * that a hit costs nothing more than this check.
   */
  gate: Promise<void> | undefined;

  constructor(replay: Promise<unknown> | undefined) {
    if (replay === undefined) {
      this.ready = Promise.resolve();
      return;
    }
    this.ready = replay.then(() => {
      this.gate = undefined;
    });
    this.ready.catch(() => undefined); // reported through ready() and every call, never as unhandled
    this.gate = this.ready;
  }
}
