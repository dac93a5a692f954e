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
