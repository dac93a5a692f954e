/**
 * The seed table against the Go original (issue 12): Go's published pooled ns/op
 * (`../shared/seed/POOLING_RESULTS.md`), our pooled ns/op and the ratio, and, because this machine's
 * speed moves 2-4x between runs, each row divided by ReadHit beside the same quotient in Go's table: the
 * quotient of quotients cancels the machine. Also the `limit` rows (a Map lookup plus a fresh copy: what
 * any in-memory cache must do) for ReadHit and MetadataCache_Hit, and the store-only row pair (install +
 * evict of 100 B entries, no file-system call around it), so that pooling's own saving shows beside the
 * whole operation.
 */
import { DataStore } from '../src/store/data-store.js';
import { createByteStore } from '../src/store/pool.js';
import { createPolicy } from '../src/policy/index.js';
import type { BenchCase, Row } from './harness.js';
import { FLOOR, FLOOR_OF, FLOOR_VARIANT, floorNs, hitData, statsRecord } from './seed-floor.js';

/** Go's pooled ns/op, from the seed's POOLING_RESULTS.md. */
export const GO_POOLED_NS: Readonly<Record<string, number>> = {
  ReadHit: 305.4,
  ReadMiss: 823.3,
  WriteThrough: 147.9,
  WriteBack: 68_137,
  LRU_Eviction: 751.2,
  LFU_Eviction: 848.3,
  TTL_Eviction: 1403,
  Hybrid_Eviction: 741.3,
  MetadataCache_Hit: 19.79,
};

/** The name of the store-only row pair. */
export const STORE_ONLY = 'StoreOnly_InstallEvict';

const EVICTION_DATA = Uint8Array.from({ length: 100 }, (_, i) => 65 + (i % 26));

/**
 * Install + evict of 100 B entries straight into the data store (LRU, 1000-byte limit, 20 keys round
 * robin): what the eviction rows cost without their open/read/close, pooled against unpooled.
 */
export function storeOnlyCases(): BenchCase[] {
  const keys = Array.from({ length: 20 }, (_, i) => `/file${String(i).padStart(2, '0')}.txt`);
  return (['unpooled', 'pooled'] as const).map((variant) => ({
    suite: 'seed',
    name: STORE_ONLY,
    variant,
    setup: () => {
      const store = new DataStore(createPolicy('lru'), createByteStore(variant === 'pooled', 1000), 1000, 0);
      return {
        kind: 'sync' as const,
        op: (i: number) => {
          const key = keys[i % 20]!;
          const slot = store.install(key, EVICTION_DATA, EVICTION_DATA.length, Infinity, 0);
          store.enforceLimits(0);
          return slot;
        },
      };
    },
  }));
}

/** `limit` rows for ReadHit (19 bytes) and MetadataCache_Hit (a 14-field stats record). */
export function limitCases(): BenchCase[] {
  const data = hitData();
  const stats = statsRecord();
  return [
    {
      suite: 'seed', name: 'ReadHit', variant: 'limit',
      setup: () => {
        const map = new Map<string, Uint8Array>([['/bench.txt', data]]);
        return {
          kind: 'sync' as const,
          op: () => {
            const src = map.get('/bench.txt')!;
            const out = Buffer.allocUnsafe(src.length);
            out.set(src);
            return out;
          },
        };
      },
    },
    {
      suite: 'seed', name: 'MetadataCache_Hit', variant: 'limit',
      setup: () => {
        const map = new Map([['/file.txt', stats]]);
        return { kind: 'sync' as const, op: () => ({ ...map.get('/file.txt')! }) };
      },
    },
  ];
}

function pick(rows: readonly Row[], name: string, variant: string): number {
  return rows.find((r) => r.name === name && r.variant === variant)?.nsPerOp ?? Number.NaN;
}

const x = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(2)}x` : '—');
const ns = (v: number): string => (Number.isFinite(v) ? (v >= 1000 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1)) : '—');

/**
 * The table against Go: per row, Go's pooled ns/op, ours, ours/Go, row/ReadHit here and in Go, their
 * quotient and the issue's target (within 2x of Go's quotient; WriteBack at or below it), then the limit
 * and store-only lines. Where a row has a floor (seed-floor.ts), the quotient the floors themselves reach
 * is shown beside ours, and a target below its floor is said to be so: the targets stay as the issue set them.
 */
export function formatAgainstGo(rows: readonly Row[]): string {
  const ourHit = pick(rows, 'ReadHit', 'pooled');
  const hitFloor = floorNs(rows, 'ReadHit');
  const goHit = GO_POOLED_NS.ReadHit!;
  const lines = [
    '| Benchmark | Go pooled (ns/op) | ours pooled (ns/op) | ours/Go | ours/ReadHit | Go/ReadHit | quotient | target | holds | floors\' quotient |',
    '|---|---:|---:|---:|---:|---:|---:|---|---|---:|',
  ];
  const notes: string[] = [];
  for (const [name, go] of Object.entries(GO_POOLED_NS)) {
    const ours = pick(rows, name, 'pooled');
    if (!Number.isFinite(ours)) continue;
    const oursRel = ours / ourHit;
    const goRel = go / goHit;
    const q = oursRel / goRel;
    const writeBack = name === 'WriteBack';
    const holds = name === 'ReadHit' ? '—' : (writeBack ? q <= 1 : q <= 2) ? 'yes' : 'no';
    // The quotient a row would have if it and ReadHit both ran at their floors.
    const floorVariant = FLOOR_OF[name];
    const floorQ = name !== 'ReadHit' && floorVariant !== undefined ? floorNs(rows, name) / hitFloor / goRel : Number.NaN;
    if (Number.isFinite(floorQ) && floorQ > 2) {
      notes.push(`- ${name}: its target quotient (<= 2x) is below the floors' own (${x(floorQ)}: ${floorVariant} / ${FLOOR_OF.ReadHit}): not reachable by any promise-returning call in this harness.`);
    }
    lines.push(`| ${name} | ${ns(go)} | ${ns(ours)} | ${x(ours / go)} | ${x(oursRel)} | ${x(goRel)} | ${x(q)} | ${name === 'ReadHit' ? '—' : writeBack ? '<= 1x' : '<= 2x'} | ${holds} | ${x(floorQ)} |`);
  }
  const out = [lines.join('\n')];
  const limitLines: string[] = [];
  for (const [name, target] of [['ReadHit', 1.5], ['MetadataCache_Hit', 2]] as const) {
    const ours = pick(rows, name, 'pooled');
    const limit = pick(rows, name, 'limit');
    if (!Number.isFinite(ours) || !Number.isFinite(limit)) continue;
    const r = ours / limit;
    const floor = floorNs(rows, name);
    const floorRel = floor / limit;
    const reachable = !Number.isFinite(floorRel) ? '—' : floorRel <= target ? 'yes' : 'no: below the floor';
    limitLines.push(`| ${name} | ${ns(ours)} | ${ns(limit)} | ${x(r)} | <= ${target}x | ${r <= target ? 'yes' : 'no'} | ${ns(floor)} | ${x(floorRel)} | ${reachable} |`);
    if (Number.isFinite(floor)) {
      notes.push(`- ${name}: ${x(ours / floor)} its floor (${FLOOR_OF[name]}, ${ns(floor)} ns/op); the target allows ${ns(target * limit)} ns/op.`);
    }
  }
  // The two targets combined: MetadataCache_Hit <= 2 x Go's quotient x ReadHit, with ReadHit <= 1.5 x its limit.
  const hitLimit = pick(rows, 'ReadHit', 'limit');
  const statFloor = floorNs(rows, 'MetadataCache_Hit');
  if (Number.isFinite(hitLimit) && Number.isFinite(statFloor)) {
    const bound = 2 * (GO_POOLED_NS.MetadataCache_Hit! / goHit) * 1.5 * hitLimit;
    notes.push(
      `- Both targets met at once put MetadataCache_Hit at <= 2 x ${x(GO_POOLED_NS.MetadataCache_Hit! / goHit)} x 1.5 x ReadHit's limit = ${ns(bound)} ns/op; ` +
        `one awaited promise (floor/await1) costs ${ns(floorNs(rows, 'await1'))} ns/op and ${FLOOR_OF.MetadataCache_Hit} ${ns(statFloor)} ns/op here` +
        (statFloor > bound ? ': below the floor.' : '.'),
    );
  }
  if (limitLines.length > 0) {
    out.push(['| Benchmark | ours pooled (ns/op) | limit (ns/op) | ours/limit | target | holds | floor (ns/op) | floor/limit | target reachable |', '|---|---:|---:|---:|---|---|---:|---:|---|', ...limitLines].join('\n'));
  }
  const floors = rows.filter((r) => r.name === FLOOR || r.variant === FLOOR_VARIANT);
  if (floors.length > 0) {
    out.push(
      [
        '| Floor (seed-floor.ts) | ns/op | B/op |',
        '|---|---:|---:|',
        ...floors.map((r) => `| ${r.name === FLOOR ? `${FLOOR}/${r.variant}` : `${r.name}/${FLOOR_VARIANT} (${FLOOR_OF[r.name]})`} | ${ns(r.nsPerOp)} | ${Number.isFinite(r.bytesPerOp) ? Math.round(r.bytesPerOp) : '—'} |`),
      ].join('\n'),
    );
  }
  if (notes.length > 0) out.push(notes.join('\n'));
  const su = pick(rows, STORE_ONLY, 'unpooled');
  const sp = pick(rows, STORE_ONLY, 'pooled');
  if (Number.isFinite(su) && Number.isFinite(sp)) {
    const lu = pick(rows, 'LRU_Eviction', 'unpooled');
    const lp = pick(rows, 'LRU_Eviction', 'pooled');
    out.push(
      [
        '| Row pair | unpooled (ns/op) | pooled (ns/op) | pooled saves (ns/op) |',
        '|---|---:|---:|---:|',
        `| ${STORE_ONLY} (store only) | ${ns(su)} | ${ns(sp)} | ${ns(su - sp)} |`,
        `| LRU_Eviction (whole operation) | ${ns(lu)} | ${ns(lp)} | ${ns(lu - lp)} |`,
      ].join('\n'),
    );
  }
  return out.join('\n\n');
}
