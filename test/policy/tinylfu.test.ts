import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LruPolicy } from '../../src/policy/lru.js';
import { TinyLfuPolicy } from '../../src/policy/tinylfu.js';
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
  const p = new TinyLfuPolicy(16);
  const store = new MiniStore(p, 100);
  // A working set that drifts by one new key per request: only recency helps.
  for (let i = 0; i < 100_000; i++) store.request(i - (i % 3) * 40);
  assert.ok(p.windowFraction > 0.01, `window share ${p.windowFraction}`);
});
