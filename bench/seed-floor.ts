/**
 * Floor rows for the seed table: what the harness and the language cost at the least, measured in the
 * same run as the rows they bound, so that a reader can tell whether a target is physically reachable.
 *
 * The `limit` rows (seed-go.ts) are synchronous: a `Map` lookup and a copy. Every seed row is an
 * asynchronous call that the harness awaits, and `ReadHit` is three awaited calls (open, read, close)
 * inside an async function. Nothing that returns a promise can beat these floors, whatever it caches:
 *
 * | variant | one operation |
 * | --- | --- |
 * | `await1` | returns a fresh, already-resolved promise of a cached object; the harness awaits it |
 * | `await3` | an async function awaiting three such promises in sequence (the shape of open, read, close) |
 * | `MetadataCache_Hit/floor` (stat-shape) | `await1` around the `MetadataCache_Hit` limit: a `Map` lookup and a fresh copy of the 14 fields |
 * | `ReadHit/floor` (readhit-shape) | `ReadHit`'s own shape (the seed's `openReadClose`) over a handle whose `read` is the `ReadHit` limit: open resolves a fresh handle, a fresh buffer of the file's size, read copies the cached bytes into it, close resolves |
 * | `<X>_Eviction/floor` (eviction-shape) | the same shape over 20 files of 100 bytes read round-robin, as the eviction rows read them: the fresh 100-byte buffer is the difference (V8 keeps a typed array of up to 64 bytes on its heap, a larger one gets a backing store of its own) |
 * | `WriteThrough/floor` (write-shape) | the seed's `openWriteClose` over the same least handle: open resolves a fresh handle, write keeps a copy of the 20 bytes in a `Map` (the store a write-through must update) and resolves its result, close resolves |
 *
 * The two shape floors do the least work their rows can do (no path check, no counters, no policy); they
 * are floors, not competitors. They carry their row's name, so that they are measured in its group (the
 * variants take turns in alternating rounds: a load swing lands on the row and its floor alike).
 */
import type { BenchCase, Row } from './harness.js';

/** The name the floor rows carry (`seed/floor/<variant>`). */
export const FLOOR = 'floor';

/** The variant of a row's own floor (`ReadHit/floor`), and what each one is. */
export const FLOOR_VARIANT = 'floor';
export const FLOOR_OF: Readonly<Record<string, string>> = {
  ReadHit: 'readhit-shape',
  MetadataCache_Hit: 'stat-shape',
  WriteThrough: 'write-shape',
  LRU_Eviction: 'eviction-shape',
  LFU_Eviction: 'eviction-shape',
  TTL_Eviction: 'eviction-shape',
  Hybrid_Eviction: 'eviction-shape',
};

/** The rows whose floor is the eviction shape (each measured in its own row's group). */
const EVICTION_ROWS = ['LRU_Eviction', 'LFU_Eviction', 'TTL_Eviction', 'Hybrid_Eviction'] as const;

const RESOLVED: Promise<void> = Promise.resolve();

/** The least a file handle can be: a key and a position, a read that copies from a Map, a close. */
class FloorHandle {
  #closed = false;
  constructor(
    readonly files: Map<string, Uint8Array>,
    readonly key: string,
  ) {}

  read(into: Uint8Array, offset: number, length: number): Promise<{ bytesRead: number; buffer: Uint8Array }> {
    const src = this.files.get(this.key)!;
    const n = Math.min(length, src.length);
    into.set(n === src.length ? src : src.subarray(0, n), offset);
    return Promise.resolve({ bytesRead: n, buffer: into });
  }

  write(data: Uint8Array): Promise<{ bytesWritten: number; buffer: Uint8Array }> {
    this.files.set(this.key, data.slice());
    return Promise.resolve({ bytesWritten: data.length, buffer: data });
  }
  close(): Promise<void> {
    this.#closed = true;
    return RESOLVED;
  }

  get closed(): boolean {
    return this.#closed;
  }
}

/** `openReadClose` of seed.ts over {@link FloorHandle}: the same three awaits, the same fresh buffer. */
async function floorOpenReadClose(files: Map<string, Uint8Array>, path: string, len: number): Promise<number> {
  const handle = await Promise.resolve(new FloorHandle(files, path));
  const buf = new Uint8Array(len);
  const { bytesRead } = await handle.read(buf, 0, len);
  await handle.close();
  return bytesRead;
}

/** `openWriteClose` of seed.ts over {@link FloorHandle}: the same three awaits. */
async function floorOpenWriteClose(files: Map<string, Uint8Array>, path: string, data: Uint8Array): Promise<number> {
  const handle = await Promise.resolve(new FloorHandle(files, path));
  const { bytesWritten } = await handle.write(data);
  await handle.close();
  return bytesWritten;
}

/** ReadHit's 19-byte file, fresh for each case that reads it (the limit and floor rows alike). */
export const hitData = (): Uint8Array => new TextEncoder().encode('benchmark test data');

/** A 14-field stats record, fresh for each case (what the limit and floor rows of MetadataCache_Hit copy). */
export const statsRecord = () => ({
  dev: 2049, ino: 1234, mode: 0o100644, nlink: 1, uid: 0, gid: 0, rdev: 0, size: 19, blksize: 4096, blocks: 8,
  atimeMs: 1.7e12, mtimeMs: 1.7e12, ctimeMs: 1.7e12, birthtimeMs: 1.7e12,
});

/** The floor rows: `floor/await1` and `floor/await3` as one group, and each row's own floor (named as the row). */
export function floorCases(): BenchCase[] {
  const data = hitData();
  const stats = statsRecord();
  const cached = { cached: true };
  const floor = (variant: string, op: (i: number) => Promise<unknown>, name = FLOOR): BenchCase => ({
    suite: 'seed',
    name,
    variant,
    setup: () => ({ kind: 'async' as const, op }),
  });
  const files = new Map<string, Uint8Array>([['/bench.txt', data]]);
  const statMap = new Map([['/file.txt', stats]]);
  const writeData = new TextEncoder().encode('benchmark write data');
  const written = new Map<string, Uint8Array>();
  const twentyNames = Array.from({ length: 20 }, (_, i) => `/file${String(i).padStart(2, '0')}.txt`);
  const evictionData = Uint8Array.from({ length: 100 }, (_, i) => 65 + (i % 26));
  const twenty = new Map(twentyNames.map((n) => [n, evictionData]));
  return [
    floor('await1', () => Promise.resolve(cached)),
    floor('await3', async () => {
      const a = await Promise.resolve(cached);
      await Promise.resolve(cached);
      await RESOLVED;
      return a;
    }),
    floor(FLOOR_VARIANT, () => Promise.resolve({ ...statMap.get('/file.txt')! }), 'MetadataCache_Hit'),
    floor(FLOOR_VARIANT, () => floorOpenReadClose(files, '/bench.txt', data.length), 'ReadHit'),
    floor(FLOOR_VARIANT, () => floorOpenWriteClose(written, '/bench.txt', writeData), 'WriteThrough'),
    ...EVICTION_ROWS.map((name) => floor(FLOOR_VARIANT, (i) => floorOpenReadClose(twenty, twentyNames[i % 20]!, 100), name)),
  ];
}

/** The ns/op of `floor/<variant>` (`await1`, `await3`) or of row `name`'s own floor; NaN when it did not run. */
export function floorNs(rows: readonly Row[], variant: string): number {
  const [name, v] = variant in FLOOR_OF ? [variant, FLOOR_VARIANT] : [FLOOR, variant];
  return rows.find((r) => r.name === name && r.variant === v)?.nsPerOp ?? Number.NaN;
}
