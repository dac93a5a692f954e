import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LruPolicy } from '../../src/policy/lru.js';
import { drain, insertAll } from './helpers.js';

test('lru: the least recently used slot is the victim', () => {
  const p = new LruPolicy(4);
  insertAll(p, [1, 2, 3]);
  p.access(1, 1);
  assert.equal(p.victim(2), 2);
  assert.deepEqual(drain(p), [2, 3, 1]);
});

test('lru: victim does not remove, and asking twice gives the same slot', () => {
  const p = new LruPolicy(4);
  insertAll(p, [0, 1]);
  assert.equal(p.victim(0), 0);
  assert.equal(p.victim(0), 0);
  p.remove(0);
  assert.equal(p.victim(0), 1);
});

test('lru: empty, untracked and out-of-range slots are no-ops', () => {
  const p = new LruPolicy(2);
  assert.equal(p.victim(0), -1);
  p.remove(1);
  p.access(1, 0);
  p.access(99, 0);
  p.remove(99);
  assert.equal(p.victim(0), -1);
  insertAll(p, [1]);
  p.remove(1);
  p.remove(1);
  assert.equal(p.victim(0), -1);
});

test('lru: grow keeps the order, slots are reused, clear forgets', () => {
  const p = new LruPolicy(2);
  insertAll(p, [0, 1]);
  p.grow(8);
  insertAll(p, [5, 7]);
  p.access(0, 1);
  assert.deepEqual(drain(p), [1, 5, 7, 0]);
  insertAll(p, [1, 0]);
  assert.equal(p.victim(0), 1);
  p.clear();
  assert.equal(p.victim(0), -1);
  insertAll(p, [3]);
  assert.deepEqual(drain(p), [3]);
});

test('lru: re-inserting a tracked slot makes it the most recent', () => {
  const p = new LruPolicy(4);
  insertAll(p, [0, 1, 2, 0]);
  assert.deepEqual(drain(p), [1, 2, 0]);
});
