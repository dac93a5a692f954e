/** Tombstones kept beyond the live keys before they are swept (see {@link ChurnMap}). */
const SLACK = 64;

/**
 * A `Map` for keys that come and go all the time (loads and stats in flight, path locks, open files,
 * the entries of a small cache): `delete` leaves the key in place with no value, and a key that comes
 * back reuses its place. Values are never `undefined`.
 *
 * Why not a plain `Map`: V8 shrinks a map's table when a delete leaves it less than a quarter full, and
 * an obsolete table keeps a pointer to its successor. A map that goes from 0 to 1 entry and back thus
 * allocates a table per delete, and once the map itself is old, every such table (with what its entries
 * held: promises, their callbacks, open files) survives young collections until a full one. On this
 * machine that made one set+delete pair cost ~0.8 us and dominated a cache miss. Tombstones are swept
 * in one pass once they outnumber the live keys by {@link SLACK}.
 */
export class ChurnMap<K, V> {
  private readonly map = new Map<K, V | undefined>();
  private live = 0;

  /** Live keys. */
  get size(): number {
    return this.live;
  }

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  has(key: K): boolean {
    return this.map.get(key) !== undefined;
  }

  set(key: K, value: V): this {
    const map = this.map;
    if (map.get(key) === undefined) {
      this.live++;
      if (map.size - this.live >= SLACK + this.live) this.sweep();
    }
    map.set(key, value);
    return this;
  }

  /** Removes `key`; true if it was there. */
  delete(key: K): boolean {
    const map = this.map;
    if (map.get(key) === undefined) return false;
    this.live--;
    map.set(key, undefined);
    return true;
  }

  clear(): void {
    // `Map#clear` allocates a fresh table even for an empty map.
    if (this.map.size !== 0) this.map.clear();
    this.live = 0;
  }

  *keys(): IterableIterator<K> {
    for (const [key, value] of this.map) if (value !== undefined) yield key;
  }

  *values(): IterableIterator<V> {
    for (const value of this.map.values()) if (value !== undefined) yield value;
  }

  *entries(): IterableIterator<[K, V]> {
    for (const [key, value] of this.map) if (value !== undefined) yield [key, value];
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  /** Drops the tombstones (the live keys keep their order). */
  private sweep(): void {
    const map = this.map;
    if (this.live === 0) {
      map.clear();
      return;
    }
    for (const [key, value] of map) if (value === undefined) map.delete(key);
  }
}

/**
 * A set of objects that come and go (the backend files handles hold open), without a `Map`: each member
 * knows its place (the number {@link add} returned), so leaving is a store into an array and a push on
 * the free list; no hash table is built or thrown away per member (see {@link ChurnMap} for why that
 * matters), and no removed member stays reachable.
 */
export class SlotSet<T> {
  private readonly members: (T | undefined)[] = [];
  private readonly free: number[] = [];

  /** Adds `member`; returns its place, to hand back to {@link remove}. */
  add(member: T): number {
    const place = this.free.pop();
    if (place === undefined) return this.members.push(member) - 1;
    this.members[place] = member;
    return place;
  }

  /** Removes the member at `place` (if `member` is still the one there). */
  remove(place: number, member: T): void {
    if (this.members[place] !== member) return;
    this.members[place] = undefined;
    this.free.push(place);
  }

  /** The members now, as an array. */
  values(): T[] {
    return this.members.filter((m): m is T => m !== undefined);
  }

  clear(): void {
    this.members.length = 0;
    this.free.length = 0;
  }
}
