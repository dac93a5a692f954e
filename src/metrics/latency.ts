/**
 * Upper bounds, in seconds, of the backend read latency buckets: from 100 µs (a memory or page-cache
 * read) to 10 s (a slow network store).
 */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

/**
 * A latency histogram in fixed buckets, kept by the core for every backend read. Recording costs a
 * short scan and three additions, with no allocation, so it is always on; exporters (Prometheus) read
 * it when scraped, and any number of registries can share it.
 */
export class LatencyHistogram {
  readonly bounds = LATENCY_BUCKETS_SECONDS;
  /** Observations per bucket (not cumulative); the last slot counts those above every bound. */
  readonly counts = new Float64Array(LATENCY_BUCKETS_SECONDS.length + 1);
  /** Sum of every observation, in seconds. */
  sum = 0;
  count = 0;

  /** Records one duration given in milliseconds. */
  record(ms: number): void {
    const seconds = ms / 1000;
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    this.counts[i]! += 1;
    this.sum += seconds;
    this.count++;
  }

  /** Cumulative counts per bound (Prometheus `le` semantics), `+Inf` last. */
  cumulative(): number[] {
    const out: number[] = [];
    let acc = 0;
    for (const n of this.counts) {
      acc += n;
      out.push(acc);
    }
    return out;
  }
}
