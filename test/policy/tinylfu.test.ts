import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LruPolicy } from '../../src/policy/lru.js';
import { TinyLfuPolicy } from '../../src/policy/tinylfu.js';
import { prng } from '../../bench/traces.js';
import { drain, MiniStore } from './helpers.js';

test('tinylfu: a frequently used key survives a one-pass scan of many new keys', () => {
  for (const adaptive of [false, true]) {
    const store = new MiniStore(new TinyLfuPolicy(16, { adaptive }), 100);
    const hot = [1, 2, 3, 4, 5];
    for (let round = 0; round < 20; round++) for (const k of hot) store.request(k);
    for (let k = 1000; k < 11_000; k++) {
      store.request(k);
      if (k % 50 === 0) for (const h of hot) store.request(h);
    }
    for (const k of hot) assert.ok(store.slots.has(k), `hot key ${k} was evicted (adaptive: ${adaptive})`);
    const lru = new MiniStore(new LruPolicy(16), 100);
    for (let round = 0; round < 20; round++) for (const k of hot) lru.request(k);
    for (let k = 1000; k < 1200; k++) lru.request(k);
    assert.ok(!lru.slots.has(1), 'control: LRU loses the hot key to the scan');
  }
});

test('tinylfu: a loop slightly larger than the cache still hits (LRU hits nothing)', () => {
  const tiny = new MiniStore(new TinyLfuPolicy(16), 100);
  const lru = new MiniStore(new LruPolicy(16), 100);
  for (let i = 0; i < 20_000; i++) {
    tiny.request(i % 110);
    lru.request(i % 110);
  }
  assert.equal(lru.hits, 0);
  assert.ok(tiny.hits > 10_000, `tinylfu hits: ${tiny.hits}`);
});

test('tinylfu: the window candidate is rejected on a tie or loss, admitted when more frequent', () => {
  const p = new TinyLfuPolicy(8, { adaptive: false });
  const A = 101;
  const B = 102;
  const C = 103;
  const D = 104;
  p.insert(0, A, 1, Infinity, 0);
  for (let i = 0; i < 3; i++) p.access(0, i);
  assert.equal(p.segmentOf(0), 'window');
  p.insert(1, B, 1, Infinity, 0);
  assert.equal(p.segmentOf(0), 'probation', 'the window holds one slot here: A spilled');
  p.insert(2, C, 1, Infinity, 0);
  // B spilled and duels A: 1 against 4.
  assert.equal(p.victim(0), 1);
  assert.equal(p.victim(0), 1, 'the decision is remembered');
  p.remove(1);
  for (let i = 0; i < 6; i++) p.recordMiss(D);
  p.insert(1, D, 1, Infinity, 0);
  p.insert(3, B, 1, Infinity, 0);
  // D (6: the insert after its own miss is not counted again) spilled after C and duels A (4).
  assert.equal(p.sketch.frequency(D), 6);
  assert.equal(p.segmentOf(1), 'probation');
  assert.equal(p.victim(0), 0, 'A loses to the more frequent D');
  p.remove(0);
  assert.deepEqual(drain(p).sort(), [1, 2, 3]);
});

test('tinylfu: a hit in probation promotes to protected', () => {
  const p = new TinyLfuPolicy(8, { adaptive: false });
  for (let s = 0; s < 4; s++) p.insert(s, 200 + s, 1, Infinity, 0);
  assert.equal(p.segmentOf(0), 'probation');
  p.access(0, 1);
  assert.equal(p.segmentOf(0), 'protected');
  assert.equal(p.segmentOf(3), 'window');
  assert.equal(p.segmentOf(7), null);
});

test('tinylfu: grow keeps state; untracked slots are no-ops; clear forgets', () => {
  const p = new TinyLfuPolicy(2, { adaptive: false });
  p.insert(0, 7, 1, Infinity, 0);
  p.insert(1, 8, 1, Infinity, 0);
  p.access(0, 1);
  p.grow(32);
  assert.equal(p.segmentOf(0), 'protected');
  assert.equal(p.segmentOf(1), 'window');
  p.access(20, 0);
  p.remove(20);
  p.insert(20, 9, 1, Infinity, 0);
  assert.deepEqual(drain(p).sort((a, b) => a - b), [0, 1, 20]);
  p.insert(3, 1, 1, Infinity, 0);
  p.clear();
  assert.equal(p.victim(0), -1);
  assert.equal(p.sketch.frequency(7), 0);
});

test('tinylfu: the hill climber grows the window under a recency-biased workload', () => {
  // Half the requests are new keys, the other half re-request one of the last 100 new keys at random: a
  // key's only value is its recency, and every slot added to the window catches more re-requests.
  const random = prng(0x3039);
  let next = 0;
  const keyAt = (): number => (random() < 0.5 || next < 100 ? next++ : next - 1 - Math.floor(random() * 100));
  const adaptive = new TinyLfuPolicy(16);
  const fixed = new TinyLfuPolicy(16, { adaptive: false });
  const stores = [new MiniStore(adaptive, 100), new MiniStore(fixed, 100)];
  for (let i = 0; i < 300_000; i++) {
    const key = keyAt();
    for (const store of stores) store.request(key);
  }
  assert.ok(adaptive.windowFraction > 0.3, `window share ${adaptive.windowFraction}`);
  assert.equal(fixed.windowFraction, 0.01);
  assert.ok(stores[0]!.hits > 1.5 * stores[1]!.hits, `hits: adaptive ${stores[0]!.hits}, fixed ${stores[1]!.hits}`);
});

test('tinylfu: a tie between keys seen at most once goes to the newcomer; a tie with evidence to the resident', () => {
  const A = 301;
  const B = 302;
  const p = new TinyLfuPolicy(8, { adaptive: false });
  // The window holds one slot here: each insert spills the previous newcomer into probation.
  p.insert(0, A, 1, Infinity, 0);
  p.insert(1, B, 1, Infinity, 0);
  p.insert(2, 303, 1, Infinity, 0);
  assert.equal(p.sketch.frequency(A), 1);
  assert.equal(p.sketch.frequency(B), 1);
  assert.equal(p.victim(0), 0, 'B (seen once) takes the place of A (seen once): recency decides');

  const q = new TinyLfuPolicy(8, { adaptive: false });
  for (let i = 0; i < 2; i++) q.recordMiss(A);
  q.insert(0, A, 1, Infinity, 0);
  for (let i = 0; i < 2; i++) q.recordMiss(B);
  q.insert(1, B, 1, Infinity, 0);
  q.insert(2, 303, 1, Infinity, 0);
  assert.equal(q.sketch.frequency(A), 2);
  assert.equal(q.sketch.frequency(B), 2);
  assert.equal(q.victim(0), 1, 'B (seen twice) does not displace A (seen twice): the loop and scan defence');
});

test('tinylfu: a probation slot that wins a duel goes to the back, so the next newcomer meets the next slot', () => {
  const H = 401;
  const X = 402;
  const D = 403;
  const E = 404;
  const F = 405;
  const p = new TinyLfuPolicy(8, { adaptive: false });
  for (let i = 0; i < 9; i++) p.recordMiss(H);
  p.insert(0, H, 1, Infinity, 0);
  p.insert(1, X, 1, Infinity, 0);
  p.recordMiss(D);
  p.insert(2, D, 1, Infinity, 0);
  for (let i = 0; i < 2; i++) p.recordMiss(F);
  p.insert(3, F, 1, Infinity, 0);
  // Probation: H (9), X (1), D (2, the candidate); window: F (2).
  assert.equal(p.victim(0), 2, 'D (2) loses to H (9)');
  p.remove(2);
  p.insert(2, E, 1, Infinity, 0);
  // F spilled and duels the next slot, X, not H again.
  assert.equal(p.victim(0), 1, 'F (2) takes the place of X (1)');
  p.remove(1);
  assert.equal(p.segmentOf(0), 'probation', 'H survived both duels');
});

test('tinylfu: a protected slot unused for four sampling periods is demoted and can then be evicted', () => {
  const P = 501;
  const Q = 502;
  const run = (idle: number): { victim: number; segment: string | null } => {
    const p = new TinyLfuPolicy(8, { adaptive: false });
    p.insert(0, P, 1, Infinity, 0);
    p.insert(1, Q, 1, Infinity, 0);
    for (let i = 0; i < 3; i++) p.access(0, 0);
    assert.equal(p.segmentOf(0), 'protected');
    // One other key, so that time passes (and the sketch ages) without collisions blurring P and Q.
    for (let i = 0; i < idle; i++) p.recordMiss(999);
    p.recordMiss(Q);
    p.insert(2, 503, 1, Infinity, 0);
    const victim = p.victim(0);
    return { victim, segment: p.segmentOf(0) };
  };
  const sampleSize = new TinyLfuPolicy(8).sketch.sampleSize;
  // Idle for one period, P (4, halved to 2) stays protected and turns the newcomer Q (1) away.
  assert.deepEqual(run(sampleSize), { victim: 1, segment: 'protected' });
  // Idle for more than four, P is back in probation with nothing left of its count (4 → 2 → 1 → 0), and
  // Q displaces it.
  assert.deepEqual(run(4 * sampleSize + 10), { victim: 0, segment: 'probation' });
});

test('tinylfu: when a small hot set moves, the new hot keys get in at once, as under LRU', () => {
  // 90% of requests go to 100 hot keys (skewed), 10% to any of 10,000 keys; the hot set is drawn anew
  // every 15,000 requests; the cache holds 1,000 entries. A hot key that misses a second time in its
  // phase was turned away by the admission filter: LRU, with room for ten hot sets, never does that.
  const random = prng(0x5f7);
  const stores = [new MiniStore(new LruPolicy(16), 1000), new MiniStore(new TinyLfuPolicy(16), 1000)];
  const firstMisses = [0, 0];
  const repeatMisses = [0, 0];
  for (let phase = 0; phase < 20; phase++) {
    const hot = Array.from({ length: 100 }, () => Math.floor(random() * 10_000));
    const seen = new Set<number>();
    for (let i = 0; i < 15_000; i++) {
      const isHot = random() < 0.9;
      const key = isHot ? hot[Math.floor(random() ** 2 * hot.length)]! : Math.floor(random() * 10_000);
      stores.forEach((store, j) => {
        if (!store.request(key) && isHot) {
          if (seen.has(key)) repeatMisses[j]!++;
          else firstMisses[j]!++;
        }
      });
      if (isHot) seen.add(key);
    }
  }
  assert.equal(repeatMisses[0], 0, 'control: LRU keeps every hot key once seen');
  assert.ok(firstMisses[1]! > 1000);
  assert.ok(repeatMisses[1]! < 0.05 * firstMisses[1]!, `tinylfu: ${repeatMisses[1]} repeat misses, ${firstMisses[1]} first misses`);
});
