// PathLocks: one mutation at a time per path, in arrival order, the lock handed from holder to holder;
// a failing mutation still gives it back; `idle` waits for everything queued. Writes through a real
// CacheFS rely on it (race.test.ts); this pins the lock's own contract.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PathLocks } from '../../src/store/path-locks.js';

/** A promise with its resolver outside, to hold a task open until the test lets it go. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

const turns = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

describe('PathLocks', () => {
  test('mutations of one path run one at a time, in arrival order; other paths do not wait', async () => {
    const locks = new PathLocks();
    const log: string[] = [];
    const gates = [gate(), gate(), gate()];
    const runs = gates.map((g, i) =>
      locks.run('/a', async () => {
        log.push(`start ${i}`);
        await g.promise;
        log.push(`end ${i}`);
      }),
    );
    const other = locks.run('/b', async () => void log.push('b'));
    await other;
    await turns(3);
    assert.deepEqual(log, ['start 0', 'b']);
    assert.equal(locks.held('/a'), true);
    // Released out of order: the second may not start before the first ends, nor the third before the second.
    gates[2]!.open();
    gates[1]!.open();
    await turns(3);
    assert.deepEqual(log, ['start 0', 'b']);
    gates[0]!.open();
    await Promise.all(runs);
    assert.deepEqual(log, ['start 0', 'b', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
    assert.equal(locks.held('/a'), false);
  });

  test('acquire answers undefined when free and a promise when held; release hands over to the oldest waiter', async () => {
    const locks = new PathLocks();
    assert.equal(locks.acquire('/f'), undefined);
    const order: number[] = [];
    const second = locks.acquire('/f')!.then(() => order.push(2));
    const third = locks.acquire('/f')!.then(() => order.push(3));
    await turns(2);
    assert.deepEqual(order, []);
    locks.release('/f');
    await second;
    assert.deepEqual(order, [2]);
    assert.equal(locks.held('/f'), true, 'the lock passed to the second caller; it was not freed');
    locks.release('/f');
    await third;
    locks.release('/f');
    assert.deepEqual(order, [2, 3]);
    assert.equal(locks.held('/f'), false);
    assert.equal(locks.acquire('/f'), undefined, 'free again after the last release');
    locks.release('/f');
  });

  test('a failing mutation gives the lock back and its error to its caller', async () => {
    const locks = new PathLocks();
    const failing = locks.run('/x', async () => {
      throw new Error('boom');
    });
    const next = locks.run('/x', async () => 'ran');
    await assert.rejects(failing, /boom/);
    assert.equal(await next, 'ran');
    assert.equal(locks.held('/x'), false);
  });

  test('idle waits for running and queued mutations, and answers at once when none', async () => {
    const locks = new PathLocks();
    await locks.idle();
    const g1 = gate();
    const g2 = gate();
    let done = 0;
    void locks.run('/p', async () => {
      await g1.promise;
      done++;
    });
    void locks.run('/q', async () => {
      await g2.promise;
      done++;
    });
    let idle = false;
    const waiting = locks.idle().then(() => (idle = true));
    g1.open();
    await turns(3);
    assert.equal(idle, false, 'one mutation is still running');
    g2.open();
    await waiting;
    assert.equal(done, 2);
  });
});
