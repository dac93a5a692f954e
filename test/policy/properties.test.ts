import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { assertProperty } from '../seeds.js';
import { createPolicy } from '../../src/policy/index.js';
import { POLICY_NAMES, type EvictionPolicy, type PolicyName } from '../../src/policy/policy.js';
import { LfuModel, LruModel, SieveModel, TtlModel, type Model } from './models.js';

type Op =
  | { t: 'insert'; slot: number; exp: number }
  | { t: 'access'; slot: number }
  | { t: 'remove'; slot: number }
  | { t: 'victim' }
  | { t: 'evict' }
  | { t: 'miss'; hash: number };

const SLOTS = 24;
const slot = fc.integer({ min: 0, max: SLOTS - 1 });
// Few distinct expiries so that ties (and Infinity's FIFO order) are exercised.
const expiry = fc.oneof(fc.constant(Infinity), fc.integer({ min: 0, max: 12 }));
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant('insert' as const), slot, exp: expiry }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('access' as const), slot }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('remove' as const), slot }) },
  { weight: 2, arbitrary: fc.constant({ t: 'victim' as const }) },
  { weight: 2, arbitrary: fc.constant({ t: 'evict' as const }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('miss' as const), hash: fc.integer({ min: 0, max: 0xffffffff }) }) },
);
// size 'max': by default fast-check caps generated arrays at about 10 elements, too few to reach
// interesting states (bucket reuse, hand wrap-around, heap reshuffles).
const ops = fc.array(op, { maxLength: 300, size: 'max' });

/**
 * Drives `policy` (and the model, when given) through `sequence` as a store would: grow before a slot
 * beyond the capacity is touched, insert only slots not tracked, evict by victim + remove. Checks after
 * each step that the victim is a tracked slot (or -1 exactly when none is), that asking twice gives the
 * same answer, and that it matches the model; at the end, that draining returns every tracked slot once.
 */
function run(policy: EvictionPolicy, sequence: Op[], model?: Model, now = 5): void {
  let capacity = 4;
  policy.grow(capacity);
  const tracked = new Set<number>();
  const ensure = (s: number): void => {
    while (s >= capacity) {
      capacity *= 2;
      policy.grow(capacity);
    }
  };
  const check = (): void => {
    const v = policy.victim(now);
    if (tracked.size === 0) assert.equal(v, -1);
    else assert.ok(tracked.has(v), `victim ${v} is not tracked`);
    assert.equal(policy.victim(now), v, 'victim twice without removal');
    if (model !== undefined) assert.equal(v, model.victim());
  };
  for (const o of sequence) {
    switch (o.t) {
      case 'insert':
        ensure(o.slot);
        if (tracked.has(o.slot)) break;
        policy.insert(o.slot, Math.imul(o.slot + 1, 0x9e3779b1) >>> 0, 1, o.exp, now);
        model?.insert(o.slot, o.exp);
        tracked.add(o.slot);
        break;
      case 'access':
        ensure(o.slot);
        policy.access(o.slot, now);
        model?.access(o.slot);
        break;
      case 'remove':
        ensure(o.slot);
        policy.remove(o.slot);
        model?.remove(o.slot);
        tracked.delete(o.slot);
        break;
      case 'victim':
        check();
        break;
      case 'evict': {
        check();
        const v = policy.victim(now);
        if (v === -1) break;
        policy.remove(v);
        model?.remove(v);
        tracked.delete(v);
        break;
      }
      case 'miss':
        policy.recordMiss(o.hash);
        break;
    }
  }
  const drained: number[] = [];
  for (let v = policy.victim(now); v !== -1; v = policy.victim(now)) {
    if (model !== undefined) assert.equal(v, model.victim());
    drained.push(v);
    policy.remove(v);
    model?.remove(v);
    assert.ok(drained.length <= SLOTS, 'drain returned more slots than exist');
  }
  assert.deepEqual([...drained].sort((a, b) => a - b), [...tracked].sort((a, b) => a - b));
}

/** fast-check prints its seed on failure; `FC_SEED=<seed>` replays that run. */
function replayable(numRuns: number): { numRuns: number; seed?: number } {
  const seed = process.env.FC_SEED;
  return seed === undefined ? { numRuns } : { numRuns, seed: Number(seed) };
}

const models: Partial<Record<PolicyName, () => Model>> = {
  lru: () => new LruModel(),
  lfu: () => new LfuModel(),
  ttl: () => new TtlModel(),
  sieve: () => new SieveModel(),
};

for (const [name, makeModel] of Object.entries(models) as [PolicyName, () => Model][]) {
  test(`${name}: random operation sequences match the reference model`, async () => {
    await assertProperty(
      fc.property(ops, (sequence) => run(createPolicy(name), sequence, makeModel())),
      replayable(300),
    );
  });
}

for (const name of POLICY_NAMES) {
  test(`${name}: every tracked slot is returned exactly once by victim + remove`, async () => {
    await assertProperty(
      fc.property(ops, fc.integer({ min: 0, max: 15 }), (sequence, now) => run(createPolicy(name), sequence, undefined, now)),
      replayable(300),
    );
  });

  test(`${name}: clear() forgets everything and the policy works again afterwards`, async () => {
    await assertProperty(
      fc.property(ops, ops, (before, after) => {
        const p = createPolicy(name);
        run(p, before);
        p.clear();
        assert.equal(p.victim(0), -1);
        run(p, after);
      }),
      { numRuns: 100 },
    );
  });
}

test('every policy reports its option name', () => {
  for (const name of POLICY_NAMES) assert.equal(createPolicy(name).name, name);
  assert.throws(() => createPolicy('nope' as PolicyName), RangeError);
});
