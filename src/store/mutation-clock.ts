/**
 * Closes the stale-install race. A load that misses, awaits the backend and then installs what it read
 * must not install if the path changed while it waited. Each load takes a ticket (the current epoch);
 * each mutation stamps its path (or, for renames and directory removals, everything) with a newer epoch.
 * A load may install only if nothing it covers was stamped after its ticket.
 *
 * Stamps are forgotten whenever no load is in flight, so the map stays as small as the concurrency.
 */
export class MutationClock {
  private epoch = 0;
  private broadEpoch = 0;
  private readonly stamped = new Map<string, number>();
  private inFlight = 0;

  /** A ticket for a load that starts now. Pair with {@link end}. */
  begin(): number {
    this.inFlight++;
    return this.epoch;
  }

  /** A load finished (installed or not). */
  end(): void {
    if (--this.inFlight === 0 && this.stamped.size !== 0) this.stamped.clear();
  }

  /** `key` changed: loads begun before now must not install it. */
  stamp(key: string): void {
    this.epoch++;
    if (this.inFlight > 0) this.stamped.set(key, this.epoch);
  }

  /** Many paths changed at once (rename of a directory, clear): no load begun before now may install. */
  stampAll(): void {
    this.epoch++;
    this.broadEpoch = this.epoch;
  }

  /** True when a load holding `ticket` may still install `key`. */
  mayInstall(key: string, ticket: number): boolean {
    if (this.broadEpoch > ticket) return false;
    const at = this.stamped.get(key);
    return at === undefined || at <= ticket;
  }
}
