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

/** A policy holding slots 0..9, each inserted once with hash 600 + slot: window [9], probation [0..8]. */
function filled(): TinyLfuPolicy {
  const p = new TinyLfuPolicy(16, { adaptive: false });
  for (let s = 0; s < 10; s++) p.insert(s, 600 + s, 1, Infinity, 0);
  return p;
}

test('tinylfu: the victim is chosen before the new entry goes in: the window candidate duels the probation head', () => {
  const p = filled();
  assert.equal(p.windowCapacity, 1);
  assert.equal(p.segmentOf(9), 'window');
  assert.equal(p.segmentOf(0), 'probation');
  // A miss on a new key: before it takes a slot, the window's oldest (9) leaves the window and meets the
  // head of probation (0). Both were seen once: the tie goes to the resident, and 9 is refused.
  p.recordMiss(700);
  assert.equal(p.victim(0), 9);
  assert.equal(p.refusedLast(), true, 'a refused candidate, not an eviction');
  assert.equal(p.victim(0), 9, 'the decision is remembered until something changes');
  p.remove(9);
  p.insert(9, 700, 1, Infinity, 0);
  assert.equal(p.segmentOf(9), 'window', 'the new entry always enters the window');
  // The resident that won (0) went round to probation's tail: the next candidate meets 1.
  assert.equal(p.segmentOf(0), 'probation');
  // The newcomer is hit once (its count above 1's): at the next miss it is admitted and the probation
  // head is evicted.
  p.access(9, 1);
  p.recordMiss(701);
  assert.equal(p.victim(0), 1);
  assert.equal(p.refusedLast(), false);
  p.remove(1);
  p.insert(1, 701, 1, Infinity, 0);
  assert.equal(p.segmentOf(9), 'probation', 'admitted to the main area');
  assert.equal(p.segmentOf(1), 'window');
  assert.equal(p.segmentOf(0), 'probation', 'the winner of the first duel stays');
});

test('tinylfu: with room in the window, the victim is the head of probation, then protected, then the window', () => {
  const p = new TinyLfuPolicy(16, { adaptive: false, window: 0.5 });
  for (let s = 0; s < 4; s++) p.insert(s, 800 + s, 1, Infinity, 0);
  assert.equal(p.windowCapacity, 2);
  assert.deepEqual([0, 1, 2, 3].map((s) => p.segmentOf(s)), ['probation', 'probation', 'window', 'window']);
  p.remove(3);
  // One slot free in the window: no duel, probation's least recently used goes.
  assert.equal(p.victim(0), 0);
  assert.equal(p.refusedLast(), false);
  assert.deepEqual(drain(p), [0, 1, 2]);
});

test("tinylfu: admission is Caffeine's: higher wins, a tie or loss is refused, a warm candidate (6+) gets 1/128", () => {
  const p = new TinyLfuPolicy(16, { adaptive: false });
  p.sketch.ensureCapacity(10_000);
  const count = (hash: number, n: number): void => {
    for (let i = 0; i < n; i++) p.sketch.increment(hash);
  };
  count(1, 6);
  count(2, 10);
  count(3, 5);
  assert.deepEqual([1, 2, 3].map((h) => p.sketch.frequency(h)), [6, 10, 5]);
  const admitted = (c: number, v: number, trials: number): number => {
    let n = 0;
    for (let i = 0; i < trials; i++) if (p.admits(c, v)) n++;
    return n;
  };
  assert.equal(admitted(2, 1, 100), 100, 'more frequent: always');
  assert.equal(admitted(3, 2, 12_800), 0, 'below the threshold: never, however often');
  assert.equal(admitted(3, 3, 12_800), 0, 'a tie below the threshold: never');
  const warm = admitted(1, 2, 12_800);
  assert.ok(warm > 50 && warm < 200, `a warm candidate against a hotter victim: ${warm} of 12,800 (about 100 expected)`);
  const tie = admitted(1, 1, 12_800);
  assert.ok(tie > 50 && tie < 200, `a warm tie: ${tie} of 12,800`);
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
  const p = new TinyLfuPolicy(10, { adaptive: false });
  for (let s = 0; s < 10; s++) p.insert(s, 7 + s, 1, Infinity, 0);
  p.access(0, 1);
  p.grow(32);
  assert.equal(p.segmentOf(0), 'protected');
  assert.equal(p.segmentOf(9), 'window');
  p.access(20, 0);
  p.remove(20);
  p.insert(20, 99, 1, Infinity, 0);
  assert.deepEqual(drain(p).sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 20]);
  p.insert(3, 1, 1, Infinity, 0);
  p.clear();
  assert.equal(p.victim(0), -1);
  assert.equal(p.sketch.frequency(7), 0);
  assert.equal(p.windowCapacity, 1);
});

test('tinylfu: the hill climber shrinks a large window under a loop, where frequency wins', () => {
  // A loop over 1.2 × the cache: an LRU (or a large window) hits nothing; the main area keeps a stable
  // part of the loop, so each step that shrinks the window raises the hit rate.
  const adaptive = new TinyLfuPolicy(16, { window: 0.5 });
  const fixed = new TinyLfuPolicy(16, { window: 0.5, adaptive: false });
  const stores = [new MiniStore(adaptive, 500), new MiniStore(fixed, 500)];
  for (let i = 0; i < 300_000; i++) for (const store of stores) store.request(i % 600);
  assert.ok(adaptive.windowFraction < 0.2, `window share ${adaptive.windowFraction}`);
  assert.equal(fixed.windowFraction, 0.5);
  assert.ok(stores[0]!.hits > stores[1]!.hits, `hits: adaptive ${stores[0]!.hits}, fixed ${stores[1]!.hits}`);
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

test('tinylfu: the climber takes the cold first period as its baseline unless the window already wins', () => {
  // A skewed, stationary workload: the first period (10,000 requests) fills the cache, so its hit rate
  // is low whatever the window; compared with it, the second period would look like an improvement.
  // The window must still be at 1% once the first period has ended: the first period only measures.
  const random = prng(0x5eed);
  const skewed = (): number => Math.floor(5000 * random() ** 4);
  const p = new TinyLfuPolicy(16);
  const store = new MiniStore(p, 100);
  for (let i = 0; i < 15_000; i++) store.request(skewed());
  assert.equal(p.windowFraction, 0.01);
  // A recency-biased one (each new key re-requested right after): window entries out-earn main ones in
  // the first period, so the window grows at once, within the same 15,000 requests.
  const q = new TinyLfuPolicy(16);
  const recent = new MiniStore(q, 100);
  for (let i = 0; i < 7_500; i++) {
    recent.request(100_000 + i);
    recent.request(100_000 + i - Math.floor(random() * 3));
  }
  assert.ok(q.windowFraction > 0.05, `window share ${q.windowFraction}`);
});

test('tinylfu: a sharp drop of the hit rate ages the sketch at once (the popular keys changed)', () => {
  for (const drop of [true, false]) {
    const p = new TinyLfuPolicy(16, { adaptive: false });
    const store = new MiniStore(p, 100);
    const hot = Array.from({ length: 50 }, (_, i) => i);
    for (let i = 0; i < 4000; i++) store.request(hot[i % hot.length]!);
    const before = p.sketch.frequency(store.hash(0));
    assert.equal(before, 15, 'a hot key saturates');
    // 2,000 requests at a hit rate near 0 (new keys) after 2,000 near 100%, or more of the same.
    for (let i = 0; i < 2000; i++) store.request(drop ? 10_000 + i : hot[i % hot.length]!);
    const after = p.sketch.frequency(store.hash(0));
    if (drop) assert.equal(after, 4, 'quartered (rounded up) by the drop, long before the 10,000-sample period ends');
    else assert.equal(after, 15, 'control: no drop, no aging');
  }
});
