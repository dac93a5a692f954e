import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LfuPolicy } from '../../src/policy/lfu.js';
import { drain, insertAll } from './helpers.js';

test('lfu: the least frequently used slot is the victim', () => {
  const p = new LfuPolicy(4);
  insertAll(p, [1, 2, 3]);
  p.access(1, 1);
  p.access(1, 2);
  p.access(3, 3);
  assert.equal(p.victim(4), 2);
  assert.deepEqual(drain(p), [2, 3, 1]);
});

test('lfu: ties go to the least recently used', () => {
  const p = new LfuPolicy(8);
  insertAll(p, [0, 1, 2, 3]);
  // All reach count 2, in the order 2, 0, 3, 1.
  for (const s of [2, 0, 3, 1]) p.access(s, 1);
  assert.deepEqual(drain(p), [2, 0, 3, 1]);
});

test('lfu: a new slot (count 1) goes before older, more used ones', () => {
  const p = new LfuPolicy(4);
  insertAll(p, [0]);
  p.access(0, 1);
  insertAll(p, [1]);
  assert.equal(p.victim(2), 1);
  assert.equal(p.frequency(0), 2);
  assert.equal(p.frequency(1), 1);
  assert.equal(p.frequency(3), 0);
});

test('lfu: buckets are freed and reused without running out', () => {
  const p = new LfuPolicy(2);
  for (let round = 0; round < 50; round++) {
    insertAll(p, [0, 1]);
    for (let i = 0; i < round; i++) p.access(i % 2, i);
    p.remove(round % 2);
    p.access(1 - (round % 2), 0);
    drain(p);
  }
  assert.equal(p.victim(0), -1);
});

test('lfu: grow keeps counts and order; untracked slots are no-ops; clear forgets', () => {
  const p = new LfuPolicy(2);
  insertAll(p, [0, 1]);
  p.access(0, 1);
  p.grow(16);
  insertAll(p, [9]);
  p.access(9, 2);
  p.access(9, 3);
  p.access(12, 3);
  p.remove(12);
  assert.deepEqual(drain(p), [1, 0, 9]);
  insertAll(p, [4]);
  p.clear();
  assert.equal(p.victim(0), -1);
  insertAll(p, [5, 6]);
  assert.deepEqual(drain(p), [5, 6]);
});

test('lfu: counts age: every 10 × maximum requests each count is halved (never below 1), order kept', () => {
  const p = new LfuPolicy(8);
  for (let s = 0; s < 4; s++) p.insert(s, s, 1, Infinity, 0); // 4 requests; maximum 4, period 40
  for (let i = 0; i < 20; i++) p.access(0, 0); // 0: 21
  for (let i = 0; i < 9; i++) p.access(1, 0); // 1: 10
  for (let i = 0; i < 4; i++) p.access(2, 0); // 2: 5; 37 requests so far
  assert.deepEqual([0, 1, 2, 3].map((s) => p.frequency(s)), [21, 10, 5, 1]);
  p.access(3, 0);
  p.access(3, 0);
  assert.deepEqual([0, 1, 2, 3].map((s) => p.frequency(s)), [21, 10, 5, 3], 'not yet: 39 requests');
  p.access(3, 0); // the 40th request halves, then counts itself
  assert.deepEqual([0, 1, 2, 3].map((s) => p.frequency(s)), [10, 5, 2, 2]);
  // 2 and 3 now share a bucket; 2 (merged first) is the older and leaves first.
  assert.deepEqual(drain(p), [2, 3, 1, 0]);
});

test('lfu: after aging, a newcomer that is hit can outlast a resident that was popular long ago', () => {
  const p = new LfuPolicy(8);
  p.insert(0, 0, 1, Infinity, 0);
  p.insert(1, 1, 1, Infinity, 0);
  for (let i = 0; i < 15; i++) p.access(0, 0); // 0: 16, popular once; 17 requests of a period of 20
  p.remove(1);
  p.insert(1, 1, 1, Infinity, 0); // a newcomer in slot 1
  for (let i = 0; i < 12; i++) p.access(1, 0); // the 20th request halves 0 from 16 to 8; 1 ends at 12
  assert.ok(p.frequency(1) > p.frequency(0), `newcomer ${p.frequency(1)}, old ${p.frequency(0)}`);
  assert.equal(p.victim(0), 0);
});
