/**
 * One worker process of the tier benchmark (bench/tier.ts), forked by it and driven over IPC. It holds
 * one CacheFS over `nodeBackend(dir)` with a fixed latency injected before each backend read (the
 * remote store a shared cache is for), with or without the shared tier.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CacheFS, nodeBackend, type Backend } from '../src/index.js';
import { prng, ZipfSampler } from './traces.js';

export interface TierChildInit {
  dir: string;
  latencyMs: number;
  maxBytes: number;
  tier?: { url: string; namespace: string; consistency: 'eventual' | 'strict' };
}

type Command =
  | ({ type: 'init' } & TierChildInit)
  | { type: 'zipf'; seed: number; reads: number; concurrency: number; files: number; s: number }
  | { type: 'stampede'; paths: string[]; n: number }
  | { type: 'follow'; path: string; count: number }
  | { type: 'write'; path: string; data: string }
  | { type: 'stats' }
  | { type: 'close' };

/** `inner` with `ms` more before each read and stat: a store across a network. */
function withLatency(inner: Backend, ms: number): Backend {
  const delayed = new Set<PropertyKey>(['readFile', 'read', 'stat']);
  return new Proxy(inner, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      if (!delayed.has(prop)) return value.bind(target);
      return async (...args: unknown[]) => {
        await sleep(ms);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** Microseconds on the machine's monotonic clock (shared by every process on it). */
const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);

let cache: CacheFS | undefined;
let backendReads = 0;

export function fileName(i: number): string {
  return `/f${String(i).padStart(5, '0')}`;
}

async function run(cmd: Command): Promise<unknown> {
  switch (cmd.type) {
    case 'init': {
      const backend = withLatency(nodeBackend(cmd.dir), cmd.latencyMs);
      cache = new CacheFS(backend, { maxBytes: cmd.maxBytes, ...(cmd.tier ? { tier: { redis: cmd.tier.url, namespace: cmd.tier.namespace, consistency: cmd.tier.consistency } } : {}) });
      cache.on('backendRead', () => backendReads++);
      if (cmd.tier) {
        const deadline = Date.now() + 10_000;
        while (!cache.core.tierLink!.port.available()) {
          if (Date.now() > deadline) throw new Error('tier did not come up');
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }
      return {};
    }
    case 'zipf': {
      // `concurrency` readers draw files by a Zipf law; each read's latency in µs.
      const zipf = new ZipfSampler(cmd.files, cmd.s);
      const random = prng(cmd.seed);
      const latencies: number[] = [];
      const before = backendReads;
      let issued = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: cmd.concurrency }, async () => {
          while (issued < cmd.reads) {
            issued++;
            const path = fileName(zipf.rank(random()));
            const t0 = performance.now();
            await cache!.readFile(path);
            latencies.push(Math.round((performance.now() - t0) * 1000));
          }
        }),
      );
      return { latencies, wallMs: performance.now() - started, backendReads: backendReads - before };
    }
    case 'stampede': {
      const before = backendReads;
      const latencies: number[] = [];
      for (const path of cmd.paths) {
        await Promise.all(
          Array.from({ length: cmd.n }, async () => {
            const t0 = performance.now();
            await cache!.readFile(path);
            latencies.push(Math.round((performance.now() - t0) * 1000));
          }),
        );
      }
      return { latencies, backendReads: backendReads - before, lockWaits: cache!.core.tierLink?.lockWaits() };
    }
    case 'follow': {
      // Serves `path` whenever this process learns it changed (its cached copy is invalidated), as a
      // server would on its next request, and notes when each new value was first served, until the
      // last one (`v<count>`) arrives. A slow poll covers an invalidation that found nothing to drop.
      const seen: [string, number][] = [];
      let last = String(await cache!.readFile(cmd.path));
      const final = `v${cmd.count}`;
      let reading = false;
      let again = false;
      let finished!: () => void;
      const done = new Promise<void>((resolve) => (finished = resolve));
      const serve = async (): Promise<void> => {
        if (reading) {
          again = true;
          return;
        }
        reading = true;
        do {
          again = false;
          const value = String(await cache!.readFile(cmd.path));
          if (value !== last) {
            seen.push([value, nowUs()]);
            last = value;
          }
        } while (again);
        reading = false;
        if (last === final) finished();
      };
      // The drop of the path's copy is the moment this process learns of the change. Since API 1.3 §6
      // an invalidation raises no 'evict' (and one from another process no event at all), so the store's
      // own removal hook is watched; without it only the slow poll below would notice.
      const store = cache!.core.cache.store;
      const previous = store.onRemove;
      store.onRemove = (key, reason, size) => {
        previous?.(key, reason, size);
        // After the current message is handled: it may carry the new bytes, installed right after the drop.
        if (key === cmd.path && reason === 'invalidated') queueMicrotask(() => void serve());
      };
      const poll = setInterval(() => void serve(), 20);
      const deadline = setTimeout(finished, 60_000);
      process.send?.({ type: 'following' });
      await done;
      store.onRemove = previous;
      clearInterval(poll);
      clearTimeout(deadline);
      return { seen };
    }
    case 'write':
      await cache!.writeFile(cmd.path, cmd.data);
      return { at: nowUs() };
    case 'stats':
      return { ...cache!.detailedStats(), backendReads };
    case 'close':
      await cache?.close();
      setImmediate(() => process.exit(0));
      return {};
  }
}

process.on('message', (message: { id: number; cmd: Command }) => {
  run(message.cmd).then(
    (result) => process.send?.({ id: message.id, ok: true, result }),
    (err: unknown) => process.send?.({ id: message.id, ok: false, error: String((err as Error)?.stack ?? err) }),
  );
});
process.on('disconnect', () => process.exit(0));
