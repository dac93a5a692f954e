// Parent side of test/tier/fixtures/tier-worker.ts: real child processes, each with its own CacheFS
// and its own connections to Redis. Not a test file itself.
import { fork, type ChildProcess } from 'node:child_process';
import type { LogEntry, WorkerInit } from './fixtures/tier-worker.js';

const WORKER = new URL('./fixtures/tier-worker.js', import.meta.url);

export class Worker {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve(v: any): void; reject(e: Error): void }>();
  /** Events the child reported (`tierUp`, and `unhandledRejection`, which a test must treat as a failure). */
  readonly events: { event: string; reason?: string }[] = [];
  private readonly child: ChildProcess;

  private constructor() {
    this.child = fork(WORKER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (m: any) => {
      if (m.type === 'event') {
        this.events.push(m);
        return;
      }
      const waiter = this.pending.get(m.id);
      if (!waiter) return;
      this.pending.delete(m.id);
      if (m.ok) waiter.resolve(m.result);
      else waiter.reject(new Error(`worker ${this.child.pid}: ${m.error}`));
    });
    this.child.on('exit', (code) => {
      for (const w of this.pending.values()) w.reject(new Error(`worker exited with ${code}`));
      this.pending.clear();
    });
  }

  static async start(init: WorkerInit): Promise<Worker> {
    const w = new Worker();
    await w.send({ type: 'init', ...init });
    return w;
  }

  send<T = any>(cmd: Record<string, unknown>): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, cmd });
    });
  }

  count(event: string): number {
    return this.events.filter((e) => e.event === event).length;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    await this.send({ type: 'close' }).catch(() => undefined);
    await exited;
  }
}

export async function closeAll(workers: Worker[]): Promise<void> {
  await Promise.all(workers.map((w) => w.close()));
}

/** One worker's random run, as its log came back. */
export interface RunResult {
  log: LogEntry[];
  failures: string[];
  /** When this worker's tier came (back) up, µs on the shared monotonic clock. */
  ups: number[];
}

interface Write {
  start: number;
  end: number;
  /** From when every process can see it: its end, or for a change published late, the writer's next tierUp. */
  visible: number;
  value: string;
  worker: number;
}

/** A write as a failure message shows it: who, what, and when (µs). */
function describeWrite(w: Write): string {
  if (w.start === -Infinity) return `initial '${w.value}'`;
  return `worker ${w.worker} '${w.value}' [${w.start}..${w.end}${w.visible !== w.end ? `, visible ${w.visible}` : ''}]`;
}

/**
 * Reads that returned stale bytes: a read is stale when the value it returned was written only by
 * writes each superseded by another write that began after it ended and was visible before the read
 * began (or when it returned a value nobody had written yet). Reads and writes of all workers on one
 * path are compared on the machine's monotonic clock.
 */
export function staleReads(results: RunResult[], initial: string[], paths: number): string[] {
  const problems: string[] = [];
  for (let p = 0; p < paths; p++) {
    const writes: Write[] = [{ start: -Infinity, end: -Infinity, visible: -Infinity, value: initial[p]!, worker: -1 }];
    const reads: { start: number; end: number; value: string; worker: number }[] = [];
    results.forEach((r, worker) => {
      for (const [kind, path, start, end, value, late] of r.log) {
        if (path !== p) continue;
        if (kind === 'w') {
          const up = late ? r.ups.find((t) => t >= end) ?? Infinity : end;
          writes.push({ start, end, visible: Math.max(end, up), value, worker });
        } else {
          reads.push({ start, end, value, worker });
        }
      }
    });
    for (const read of reads) {
      // The latest start among writes visible before the read began: a write ending before it is superseded.
      let latest: Write | undefined;
      for (const w of writes) if (w.visible < read.start && (latest === undefined || w.start > latest.start)) latest = w;
      const latestStart = latest?.start ?? -Infinity;
      // The backend writes a file by truncating it and then writing (as Node's writeFile does): a read
      // that meets a write half-way sees it empty or cut short, as Node's own readFile would. Such a
      // read is explained only by a write that overlaps it. For the other processes a write published
      // late is under way until it is visible: what a backend read caught half-way through it may be
      // served until then, as its older bytes may (API 1.3: 'strict' holds while the writer reaches Redis).
      const torn = (w: Write): boolean => w.value !== 'ENOENT' && w.value.startsWith(read.value) && w.visible > read.start;
      const candidates = writes.filter((w) => (w.value === read.value || torn(w)) && w.start < read.end);
      const at = `path ${p}: worker ${read.worker} read '${read.value}' [${read.start}..${read.end}]`;
      const around = writes.filter((w) => w.start < read.end && w.visible > read.start - 50_000).map(describeWrite);
      if (candidates.length === 0) {
        problems.push(`${at}, which no write had begun to write; writes then: ${around.join('; ')}`);
      } else if (!candidates.some((w) => w.end >= latestStart)) {
        problems.push(`${at}, superseded by ${describeWrite(latest!)}; written by ${candidates.map(describeWrite).join('; ')}`);
      }
    }
  }
  return problems;
}
