import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TtlPolicy } from '../../src/policy/ttl.js';
import { drain } from './helpers.js';

test('ttl: soonest expiry first, expired or not', () => {
  const p = new TtlPolicy(8);
  p.insert(0, 0, 1, 500, 0);
  p.insert(1, 1, 1, 100, 0);
  p.insert(2, 2, 1, 300, 0);
  assert.equal(p.victim(0), 1);
  assert.equal(p.victim(1000), 1);
  assert.deepEqual(drain(p), [1, 2, 0]);
});

test('ttl: entries that never expire come last, first in first out', () => {
  const p = new TtlPolicy(8);
  p.insert(3, 3, 1, Infinity, 0);
  p.insert(1, 1, 1, Infinity, 0);
  p.insert(0, 0, 1, 50, 0);
  p.insert(2, 2, 1, Infinity, 0);
  p.insert(4, 4, 1, 10, 0);
  p.access(3, 1);
  assert.deepEqual(drain(p), [4, 0, 3, 1, 2]);
});

test('ttl: equal expiries leave in insertion order; re-insert takes a new place', () => {
  const p = new TtlPolicy(8);
  for (const s of [5, 2, 7]) p.insert(s, s, 1, 100, 0);
  p.insert(5, 5, 1, 100, 1);
  assert.deepEqual(drain(p), [2, 7, 5]);
});

test('ttl: removing from the middle keeps the heap ordered; grow keeps it too', () => {
  const p = new TtlPolicy(4);
  const expiries = [40, 10, 30, 20];
  expiries.forEach((e, s) => p.insert(s, s, 1, e, 0));
  p.grow(64);
  for (let s = 4; s < 64; s++) p.insert(s, s, 1, 1000 - s, 0);
  p.remove(3);
  p.remove(2);
  p.remove(3);
  p.remove(63);
  const order = drain(p);
  assert.deepEqual(order.slice(0, 2), [1, 0]);
  assert.equal(order.length, 61);
  assert.deepEqual(order.slice(2), Array.from({ length: 59 }, (_, i) => 62 - i));
});
