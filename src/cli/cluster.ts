/**
 * `cachefs serve --workers K`: K processes serving one port through `node:cluster`, each with its own
 * cache and all sharing the tier in Redis (`--redis`), so a file read by one worker is a tier hit in the
 * others and a write through one is seen by all. The primary prints the URL once, forwards SIGINT and
 * SIGTERM to the workers (each finishes its requests and flushes), replaces a worker that dies, and
 * exits when every worker has stopped.
 */
import cluster from 'node:cluster';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';

/** The namespace `cachefs serve` uses when none is given: one per served directory, the same on every host that mounts it at the same path. */
export function defaultNamespace(dir: string): string {
  const root = /^[a-z][a-z0-9+.-]*:\/\//i.test(dir) ? dir : resolve(dir);
  return `cachefs:${createHash('sha256').update(root).digest('hex').slice(0, 32)}`;
}

/** True in a worker started by {@link runWorkers}. */
export function isClusterWorker(): boolean {
  return cluster.isWorker;
}

/** A worker tells the primary where it listens (the primary prints the URL once). */
export function reportListening(url: string): void {
  process.send?.({ cachefsListening: url });
}

/** The primary's side: starts `count` workers running the same command line; resolves to the exit code. */
export function runWorkers(count: number, log: (line: string) => void): Promise<number> {
  return new Promise((done) => {
    let stopping = false;
    let printed = false;
    let listening = 0;
    let worst = 0;
    let forwarded: NodeJS.Signals | undefined;
    const start = (): void => {
      const worker = cluster.fork();
      worker.on('message', (m: { cachefsListening?: string }) => {
        // The URL once every worker listens: a client that reads it reaches any of them.
        if (m?.cachefsListening && ++listening === count && !printed) {
          printed = true;
          process.stdout.write(`cachefs serve: ${m.cachefsListening} (${count} workers)\n`);
        }
      });
    };
    cluster.on('exit', (worker, code, signal) => {
      if (!stopping && !printed) {
        // A worker that dies before any listened (a port in use, Redis options refused): give up.
        log(`cachefs serve: worker ${worker.process.pid} exited (${signal ?? code}) before listening`);
        stop('SIGTERM');
      }
      if (!stopping) {
        log(`cachefs serve: worker ${worker.process.pid} exited (${signal ?? code}); starting another`);
        start();
        return;
      }
      // A worker still starting when the stop came has its signal's default end: nothing to flush yet.
      worst = Math.max(worst, signal !== null && signal === forwarded ? 0 : code ?? 1, printed ? 0 : 1);
      if (Object.keys(cluster.workers ?? {}).length === 0) done(worst);
    });
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      forwarded = signal;
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    for (let i = 0; i < count; i++) start();
  });
}
