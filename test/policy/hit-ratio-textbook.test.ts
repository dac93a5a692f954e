// Each eviction policy, driven by the real cache (CacheFS over a memory backend, maxEntries = 3 or 2),
// against its textbook result on a small trace worked out by hand in the comments. A request is a hit when
// the backend was not read for it: the backend is wrapped to count its reads, so the expectation does not
// rest on the library's own counters (they are checked against it too).
//
// Textbook order on a miss with a full cache: the victim is chosen among the residents, then the newcomer
// is inserted (SIEVE, NSDI'24: "the hand evicts, then the new object is inserted at the head"; LFU: the
// least frequently used resident leaves). The store decides before it admits since issue 16, so every
// test here is a real one.
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { CacheFS, memoryBackend } from '../../src/index.js';
import type { Backend } from '../../src/backend/backend.js';
import type { CacheFSOptions } from '../../src/options.js';

/** A memory backend whose data reads are counted (the wrapper changes nothing else). */
function countingBackend(files: Record<string, string>): { backend: Backend; reads: () => number } {
  const inner = memoryBackend(files);
  let reads = 0;
  const backend = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if ((prop === 'readFile' || prop === 'read') && typeof value === 'function') {
        return (...args: unknown[]) => {
          reads++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { backend, reads: () => reads };
}

/**
 * Requests each key of `trace` (one letter = one file `/X`) in order, the mock clock moving `tickMs`
 * before each; returns the hits and misses as a string of `h` and `m`.
 */
async function replay(trace: string, options: CacheFSOptions, tickMs = 0): Promise<string> {
  const files: Record<string, string> = {};
  for (const key of trace) files[`/${key}`] = `file ${key}`;
  const { backend, reads } = countingBackend(files);
  mock.timers.enable({ apis: ['Date'], now: 0 });
  const fs = new CacheFS(backend, options);
  try {
    let pattern = '';
    for (const key of trace) {
      mock.timers.tick(tickMs);
      const before = reads();
      assert.equal(await fs.readFile(`/${key}`, 'utf8'), `file ${key}`);
      pattern += reads() === before ? 'h' : 'm';
    }
    const hits = [...pattern].filter((c) => c === 'h').length;
    assert.equal(fs.stats().hits, hits, 'stats().hits counts the requests the backend did not serve');
    assert.equal(fs.stats().misses, trace.length - hits);
    return pattern;
  } finally {
    mock.timers.reset();
    await fs.close();
  }
}

test('lru, 3 entries: A B C A D B E A B C D', async () => {
  // Order, least recent first:
  //  A m [A]   B m [A B]   C m [A B C]   A h [B C A]   D m, B out [C A D]   B m, C out [A D B]
  //  E m, A out [D B E]   A m, D out [B E A]   B h [E A B]   C m, E out [A B C]   D m, A out [B C D]
  assert.equal(await replay('ABCADBEABCD', { eviction: 'lru', maxEntries: 3 }), 'mmmhmmmmhmm');
});

test('lfu, 3 entries: a newcomer replaces the least frequently used resident', async () => {
  // Counts: A×4 (m h h h) → A4;  B×3 (m h h) → B3;  C×2 (m h) → C2.
  //  D m: the residents are A4 B3 C2, C2 leaves, D enters with 1 → A4 B3 D1
  //  D h → D2;  D h → D3.
  // (Deciding after admission, D1 would be the least frequent of four and leave at once: D would miss
  // three times.)
  assert.equal(await replay('AAAABBBCCDDD', { eviction: 'lfu', maxEntries: 3 }), 'mhhhmhhmhmhh');
});

test('lfu, 3 entries: ties go to the least recently used', async () => {
  // A m, B m, C m (all count 1, A oldest);  A h → A2;  D m: least frequent are B1 C1, B is older: out;
  //  → A2 C1 D1;  B m: C1 and D1 tie, C older: out → A2 D1 B1;  C m: D out → A2 B1 C1;  A h → A3.
  assert.equal(await replay('ABCADBCA', { eviction: 'lfu', maxEntries: 3 }), 'mmmhmmmh');
});

test('sieve, 3 entries: the hand evicts, then the newcomer is inserted at the head (NSDI\'24)', async () => {
  // Queue oldest → newest, * = visited; the hand starts at the oldest.
  //  A m [A]  B m [A B]  C m [A B C]  A h [A* B C]  B h [A* B* C]  C h [A* B* C*]
  //  D m: hand A* → clear, B* → clear, C* → clear, wraps to A: evict A; hand at B; D at the head
  //       [B C D]
  //  D h [B C D*]
  //  A m: hand B (unvisited): evict B; hand at C → [C D* A]
  //  B m: hand C: evict C; hand at D* → [D* A B]
  // (Inserting first, D would join unvisited behind three visited slots, and the hand, clearing them,
  // would reach D and evict the newcomer: D's second request would miss.)
  assert.equal(await replay('ABCABCDDAB', { eviction: 'sieve', maxEntries: 3 }), 'mmmhhhmhmm');
});

test('sieve, 3 entries: a visited entry survives the hand, an unvisited one does not', async () => {
  //  A m [A]  B m [A B]  C m [A B C]  A h [A* B C]
  //  D m: hand A* → clear, B: evict; hand at C → [A C D]
  //  A h [A* C D]   E m: hand C: evict C; hand at D → [A* D E]
  //  B m: hand D: evict D; hand at E → [A* E B]   A h
  assert.equal(await replay('ABCADAEBA', { eviction: 'sieve', maxEntries: 3 }), 'mmmhmhmmh');
});

test('ttl, 2 entries: the entry that expires first leaves first; hits do not change that', async () => {
  // One request per ms. ttl 1000 (ends at t+1000), /L* 10000. Residents with their expiry:
  //  t1 L m {L:10001}  t2 S m {L, S:1002}  t3 T m: S (1002) leaves {L, T:1003}
  //  t4 S m: T leaves {L, S:1004}  t5 L h  t6 T m: S leaves {L, T:1006}  t7 L h
  // (LRU would give m m m h m m h: it evicts L at t3.)
  const options: CacheFSOptions = { eviction: 'ttl', maxEntries: 2, ttl: 1000, ttlRules: [{ pattern: '/L*', ttl: 10_000 }] };
  assert.equal(await replay('LSTSLTL', options, 1), 'mmmmhmh');
});

test('ttl, 2 entries: an expired entry is reloaded, not served', async () => {
  // One request per 600 ms, ttl 1000: A at 600 (→1600), A at 1200 h, A at 1800: expired, m (→2800),
  // B at 2400 m, A at 3000: expired (2800) m.
  assert.equal(await replay('AAABA', { eviction: 'ttl', maxEntries: 2, ttl: 1000 }, 600), 'mhmmm');
});

test('hybrid, 3 entries: entries hit twice survive a one-time scan that LRU would not', async () => {
  // Segmented LRU, protected share floor(0.8 × tracked):
  //  A m prob[A]  B m prob[A B]  C m prob[A B C]
  //  A h → protected [A] (share 2)  B h → protected [A B]  prob [C]
  //  X m: C leaves (head of probation) → prob [X]   Y m: X leaves   Z m: Y leaves
  //  A h  B h (both still protected)
  // (LRU: X evicts C, Y evicts A, Z evicts B, then A and B miss: m m m h h m m m m m.)
  assert.equal(await replay('ABCABXYZAB', { eviction: 'hybrid', maxEntries: 3 }), 'mmmhhmmmhh');
  assert.equal(await replay('ABCABXYZAB', { eviction: 'lru', maxEntries: 3 }), 'mmmhhmmmmm');
});

test('tinylfu, 3 entries: a frequently used working set survives a scan of one-time keys', async () => {
  // The property W-TinyLFU is built for: A and B, requested five times each, are in the main region
  // with high sketch counts; keys seen once lose the admission contest against them, so after a scan
  // of 12 one-time keys both are still cached. (LRU loses both.)
  const warm = 'ABABABABAB';
  const scan = 'CDEFGHIJKLMN';
  const pattern = await replay(`${warm}${scan}AB`, { eviction: 'tinylfu', maxEntries: 3 });
  assert.equal(pattern.slice(-2), 'hh', pattern);
  assert.equal(pattern.slice(warm.length, warm.length + scan.length), 'm'.repeat(scan.length), 'one-time keys all miss');
  const lru = await replay(`${warm}${scan}AB`, { eviction: 'lru', maxEntries: 3 });
  assert.equal(lru.slice(-2), 'mm');
});
