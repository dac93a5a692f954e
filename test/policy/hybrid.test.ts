import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HybridPolicy } from '../../src/policy/hybrid.js';
import { drain, insertAll } from './helpers.js';

test('hybrid: a second access promotes to protected; victims come from probation first', () => {
  const p = new HybridPolicy(8);
  insertAll(p, [0, 1, 2, 3, 4]);
  p.access(0, 1);
  assert.equal(p.segmentOf(0), 'protected');
  assert.equal(p.segmentOf(1), 'probation');
  // 1 is the least recently used on probation; 0, although older, is protected.
  assert.equal(p.victim(2), 1);
  assert.deepEqual(drain(p, 2), [1, 2, 3, 4, 0]);
});

test('hybrid: a scan does not displace protected entries', () => {
  const p = new HybridPolicy(64);
  insertAll(p, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  p.access(0, 1);
  p.access(1, 1);
  for (let s = 10; s < 60; s++) {
    p.insert(s, s, 1, Infinity, 2);
    const v = p.victim(2);
    assert.ok(v >= 2, `scan evicted protected slot ${v}`);
    p.remove(v);
  }
});

test('hybrid: protected is capped at 80% of tracked entries; overflow is demoted to probation', () => {
  const p = new HybridPolicy(16);
  insertAll(p, [0, 1, 2, 3, 4]);
  for (const s of [0, 1, 2, 3]) p.access(s, 1);
  // Cap is floor(0.8 * 5) = 4: all four fit.
  assert.deepEqual([0, 1, 2, 3].map((s) => p.segmentOf(s)), ['protected', 'protected', 'protected', 'protected']);
  p.access(4, 2);
  // 4 promoted, 0 (protected's least recent) demoted to probation's tail.
  assert.equal(p.segmentOf(4), 'protected');
  assert.equal(p.segmentOf(0), 'probation');
  assert.equal(p.victim(3), 0);
});

test('hybrid: an expired entry is chosen first, whatever its segment', () => {
  const p = new HybridPolicy(8);
  p.insert(0, 0, 1, Infinity, 0);
  p.insert(1, 1, 1, 100, 0);
  p.insert(2, 2, 1, 50, 0);
  p.access(1, 1);
  p.access(2, 1);
  assert.equal(p.victim(10), 0, 'nothing expired yet: probation head');
  assert.equal(p.victim(60), 2, 'slot 2 expired at 50');
  assert.equal(p.victim(100), 2);
  p.remove(2);
  assert.equal(p.victim(100), 1, 'slot 1 expired at 100 goes before live probation');
  p.remove(1);
  assert.equal(p.victim(100), 0);
});

test('hybrid: re-insert resets segment and expiry; grow keeps state', () => {
  const p = new HybridPolicy(2);
  p.insert(0, 0, 1, 10, 0);
  p.insert(1, 1, 1, Infinity, 0);
  p.access(0, 1);
  p.insert(0, 0, 1, Infinity, 2);
  assert.equal(p.segmentOf(0), 'probation');
  assert.equal(p.victim(1000), 1);
  p.grow(10);
  p.insert(9, 9, 1, 5, 3);
  assert.equal(p.victim(6), 9);
  assert.deepEqual(drain(p, 0), [1, 0, 9]);
  p.clear();
  assert.equal(p.victim(0), -1);
});
