import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SievePolicy } from '../../src/policy/sieve.js';
import { drain, insertAll } from './helpers.js';

test('sieve: unvisited oldest first; a visited slot is skipped once and its bit cleared', () => {
  const p = new SievePolicy(8);
  insertAll(p, [1, 2, 3]);
  p.access(1, 1);
  assert.ok(p.isVisited(1));
  assert.equal(p.victim(2), 2);
  assert.equal(p.isVisited(1), false, 'the hand cleared the bit as it passed');
  assert.equal(p.victim(2), 2, 'the hand stays until removal');
  p.remove(2);
  assert.equal(p.victim(2), 3);
  p.remove(3);
  assert.equal(p.victim(2), 1);
});

test('sieve: the hand keeps its place; new slots join behind it; it wraps to the oldest', () => {
  const p = new SievePolicy(8);
  insertAll(p, [0, 1, 2, 3]);
  p.access(0, 1);
  p.access(2, 1);
  assert.equal(p.victim(1), 1);
  p.remove(1);
  insertAll(p, [4]);
  p.access(3, 2);
  // Hand moves from 2 (visited: cleared) past 3 (visited: cleared) to 4, the newest.
  assert.equal(p.victim(2), 4);
  p.remove(4);
  // Past the newest the hand wraps to the oldest: 0's bit was cleared on the first pass, so 0 goes.
  assert.equal(p.victim(2), 0);
});

test('sieve: when every slot is visited, one full turn clears them and the oldest goes', () => {
  const p = new SievePolicy(4);
  insertAll(p, [0, 1, 2, 3]);
  for (const s of [0, 1, 2, 3]) p.access(s, 1);
  assert.equal(p.victim(2), 0);
  for (const s of [1, 2, 3]) assert.equal(p.isVisited(s), false);
});

test('sieve: removing a slot that is not the hand leaves the hand; grow and clear', () => {
  const p = new SievePolicy(2);
  insertAll(p, [0, 1]);
  p.access(0, 1);
  assert.equal(p.victim(1), 1);
  p.remove(0);
  assert.equal(p.victim(1), 1);
  p.grow(8);
  insertAll(p, [6, 7]);
  assert.deepEqual(drain(p), [1, 6, 7]);
  insertAll(p, [5]);
  p.clear();
  assert.equal(p.victim(0), -1);
  p.access(5, 0);
  p.remove(5);
  assert.equal(p.victim(0), -1);
});
