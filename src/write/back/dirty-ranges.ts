/** Ranges closer than this are written as one: a second backend call costs more than a few KiB more. */
const COALESCE_GAP = 4096;
/** Beyond this many ranges, a flush writes one span from the first to the last: fewer, larger writes. */
const MAX_RANGES = 32;

/**
 * What changed in a dirty file since the backend's copy, so that a flush writes only that: sorted,
 * disjoint byte ranges `[start, end)`, and `cut`, the shortest length the file had meanwhile
 * (`Infinity` when it never shrank). A flush truncates the backend's file to `cut` first, then writes
 * the ranges; every byte at or beyond `cut` is inside a range, so the result is exactly the cached file.
 *
 * Writing only the changed ranges also keeps the backend's copy whole while a flush runs: the bytes
 * outside the ranges are never touched, so a flush cut short by a crash leaves a file the journal's
 * records can be replayed onto (see `journal-replay.ts`).
 */
export class DirtyRanges {
  private starts: number[] = [];
  private ends: number[] = [];
  /** The shortest length the file had since the backend's copy; `Infinity` if it never shrank. */
  cut = Infinity;

  /** True when nothing changed. */
  get empty(): boolean {
    return this.starts.length === 0 && this.cut === Infinity;
  }

  /** Number of ranges (after coalescing). */
  get count(): number {
    return this.starts.length;
  }

  /** Records a write of `[start, end)` to a file that was `sizeBefore` bytes long (a hole counts as written). */
  wrote(start: number, end: number, sizeBefore: number): void {
    if (end <= start) return;
    this.add(Math.min(start, sizeBefore), end);
  }

  /** Records that the file went from `sizeBefore` to `length` bytes (cut, or extended with zeros). */
  truncated(length: number, sizeBefore: number): void {
    if (length < sizeBefore) {
      if (length < this.cut) this.cut = length;
      this.clip(length);
    } else if (length > sizeBefore) {
      this.add(sizeBefore, length);
    }
  }

  /** Records that the whole content was replaced by `length` bytes. */
  replaced(length: number): void {
    this.cut = 0;
    this.starts = length > 0 ? [0] : [];
    this.ends = length > 0 ? [length] : [];
  }

  /**
   * Takes back the changes of a flush that failed (`older`), under the changes made since it began
   * (this): the next flush must write both. Older ranges past this object's `cut` are dropped: those
   * bytes were cut since, and whatever lies there now is in this object's ranges.
   */
  absorb(older: DirtyRanges): void {
    for (let i = 0; i < older.starts.length; i++) {
      const start = older.starts[i]!;
      const end = Math.min(older.ends[i]!, this.cut);
      if (end > start) this.add(start, end);
    }
    if (older.cut < this.cut) this.cut = older.cut;
  }

  /** The ranges clipped to a file of `size` bytes, as `[start, end)` pairs. */
  list(size: number): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = 0; i < this.starts.length; i++) {
      const start = this.starts[i]!;
      const end = Math.min(this.ends[i]!, size);
      if (end > start) out.push([start, end]);
    }
    return out;
  }

  private add(start: number, end: number): void {
    const starts = this.starts;
    const ends = this.ends;
    // Ranges are few (at most MAX_RANGES): a linear pass is the simplest correct merge.
    let i = 0;
    while (i < starts.length && ends[i]! + COALESCE_GAP < start) i++;
    let j = i;
    let s = start;
    let e = end;
    while (j < starts.length && starts[j]! <= e + COALESCE_GAP) {
      if (starts[j]! < s) s = starts[j]!;
      if (ends[j]! > e) e = ends[j]!;
      j++;
    }
    starts.splice(i, j - i, s);
    ends.splice(i, j - i, e);
    if (starts.length > MAX_RANGES) {
      this.starts = [starts[0]!];
      this.ends = [ends[ends.length - 1]!];
    }
  }

  private clip(length: number): void {
    let n = this.starts.length;
    while (n > 0 && this.starts[n - 1]! >= length) n--;
    this.starts.length = n;
    this.ends.length = n;
    if (n > 0 && this.ends[n - 1]! > length) this.ends[n - 1] = length;
  }
}
