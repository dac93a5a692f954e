/**
 * Reference models: the obvious, array-based (O(n)) versions of the policies, for property tests to
 * compare the typed-array implementations against.
 */
export interface Model {
  insert(slot: number, expiresAt: number): void;
  access(slot: number): void;
  remove(slot: number): void;
  victim(): number;
}

export class LruModel implements Model {
  private order: number[] = [];
  insert(slot: number): void {
    this.remove(slot);
    this.order.push(slot);
  }
  access(slot: number): void {
    if (this.order.includes(slot)) this.insert(slot);
  }
  remove(slot: number): void {
    this.order = this.order.filter((s) => s !== slot);
  }
  victim(): number {
    return this.order[0] ?? -1;
  }
}

export class LfuModel implements Model {
  private entries: { slot: number; freq: number; stamp: number }[] = [];
  private clock = 0;
  private maximum = 0;
  private requests = 0;
  insert(slot: number): void {
    this.remove(slot);
    this.entries.push({ slot, freq: 1, stamp: this.clock++ });
    this.maximum = Math.max(this.maximum, this.entries.length);
    this.count();
  }
  access(slot: number): void {
    const e = this.entries.find((x) => x.slot === slot);
    if (e === undefined) return;
    this.count();
    e.freq++;
    e.stamp = this.clock++;
  }
  /**
   * Aging: every 10 × maximum requests (inserts and hits) each count is halved, never below 1; entries
   * whose counts become equal keep their former order (lower count first, then least recent).
   */
  private count(): void {
    if (++this.requests < 10 * this.maximum) return;
    this.requests = 0;
    const order = [...this.entries].sort((a, b) => a.freq - b.freq || a.stamp - b.stamp);
    for (const e of order) {
      e.freq = Math.max(1, Math.floor(e.freq / 2));
      e.stamp = this.clock++;
    }
  }
  remove(slot: number): void {
    this.entries = this.entries.filter((e) => e.slot !== slot);
  }
  victim(): number {
    let best: { slot: number; freq: number; stamp: number } | undefined;
    for (const e of this.entries) {
      if (best === undefined || e.freq < best.freq || (e.freq === best.freq && e.stamp < best.stamp)) best = e;
    }
    return best?.slot ?? -1;
  }
}

export class TtlModel implements Model {
  private entries: { slot: number; exp: number; seq: number }[] = [];
  private seq = 0;
  insert(slot: number, expiresAt: number): void {
    this.remove(slot);
    this.entries.push({ slot, exp: expiresAt, seq: this.seq++ });
  }
  access(): void {}
  remove(slot: number): void {
    this.entries = this.entries.filter((e) => e.slot !== slot);
  }
  victim(): number {
    let best: { slot: number; exp: number; seq: number } | undefined;
    for (const e of this.entries) {
      if (best === undefined || e.exp < best.exp || (e.exp === best.exp && e.seq < best.seq)) best = e;
    }
    return best?.slot ?? -1;
  }
}

export class SieveModel implements Model {
  /** Oldest first. */
  private queue: { slot: number; visited: boolean }[] = [];
  private hand: number | null = null;
  insert(slot: number): void {
    this.remove(slot);
    this.queue.push({ slot, visited: false });
  }
  access(slot: number): void {
    const e = this.queue.find((x) => x.slot === slot);
    if (e !== undefined) e.visited = true;
  }
  remove(slot: number): void {
    const i = this.queue.findIndex((e) => e.slot === slot);
    if (i === -1) return;
    if (this.hand === slot) this.hand = this.queue[i + 1]?.slot ?? null;
    this.queue.splice(i, 1);
  }
  victim(): number {
    if (this.queue.length === 0) return -1;
    let i = this.hand === null ? 0 : this.queue.findIndex((e) => e.slot === this.hand);
    while (this.queue[i]!.visited) {
      this.queue[i]!.visited = false;
      i = (i + 1) % this.queue.length;
    }
    this.hand = this.queue[i]!.slot;
    return this.hand;
  }
}
