/**
 * The serve suite: `cachefs serve` against a common Node static server (sirv) and against the limit (a
 * bare `node:http` server answering from a `Map` of preloaded `Buffer`s), under load from autocannon
 * on loopback. One run measures every variant on the same files, so the ratios mean something even on
 * a noisy machine.
 *
 * - Files: `GET_1KiB` (a 1 KiB stylesheet) and `GET_64KiB` (a 64 KiB script), ASCII text as a site
 *   serves. (autocannon appends each response body to a string; random bytes would make its UTF-8
 *   decoding, not the servers, the bottleneck at 64 KiB.)
 * - Variants: `cachefs` (all hits: each file is requested during the warm-up first), `cachefs-miss`
 *   (no file fits the cache, so every request reads the disk: what a miss costs), `sirv`, `limit`.
 * - Each server runs in its own child process (serve-child.ts); autocannon runs in this one. The
 *   variants take turns in rounds, in alternating order, so a burst of outside load lands on all alike.
 * - Rows: `{ suite: 'serve', name, variant, requestsPerSec, p99Ms }`; requests/s and p99 are means
 *   over the rounds.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { get } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { Suite } from './suite.js';

export const SERVE_VARIANTS = ['cachefs', 'cachefs-miss', 'sirv', 'limit'] as const;
export type ServeVariant = (typeof SERVE_VARIANTS)[number];

/** One measured (file, variant). */
export interface ServeRow {
  suite: 'serve';
  /** `GET_1KiB`, `GET_64KiB`. */
  name: string;
  variant: string;
  requestsPerSec: number;
  p99Ms: number;
}

export interface ServeBenchOptions {
  /** Concurrent connections of autocannon. Default 32. */
  connections?: number;
  /** Seconds of one measured round per (file, variant). Default 3. */
  durationSeconds?: number;
  /** Seconds of load before the rounds, per (file, variant), not recorded. Default 1. */
  warmupSeconds?: number;
  /** Rounds per (file, variant). Default 2. */
  rounds?: number;
  /** Only these variants. Default all. */
  variants?: readonly ServeVariant[];
  /** Only cases whose `serve/name/variant` matches. */
  filter?: RegExp;
  /** Progress lines (stderr by default). */
  log?: (line: string) => void;
}

/** The benchmark's files: name → content. */
function makeFiles(): Map<string, { name: string; body: Buffer }> {
  const css = (bytes: number): Buffer => {
    let s = '';
    for (let i = 0; s.length < bytes; i++) s += `.rule-${i} { color: #${((i * 7919) % 0xffffff).toString(16).padStart(6, '0')}; margin: ${i % 17}px; }\n`;
    return Buffer.from(s.slice(0, bytes - 1) + '\n');
  };
  const js = (bytes: number): Buffer => {
    let s = '';
    for (let i = 0; s.length < bytes; i++) s += `export function handler${i}(event) { return event.value * ${i} + ${i % 13}; }\n`;
    return Buffer.from(s.slice(0, bytes - 1) + '\n');
  };
  return new Map([
    ['GET_1KiB', { name: 'small-1KiB.css', body: css(1024) }],
    ['GET_64KiB', { name: 'medium-64KiB.js', body: js(64 * 1024) }],
  ]);
}

interface RunningServer {
  variant: ServeVariant;
  port: number;
  child: ChildProcess;
}

const childPath = join(dirname(fileURLToPath(import.meta.url)), 'serve-child.js');

function startServer(variant: ServeVariant, dir: string): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const child = fork(childPath, [variant, dir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`serve bench: the ${variant} server did not start within 10 s`));
    }, 10_000);
    child.once('message', (m: { port: number }) => {
      clearTimeout(timer);
      resolve({ variant, port: m.port, child });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve bench: the ${variant} server exited with ${code}`));
    });
  });
}

function stopServer(server: RunningServer): Promise<void> {
  return new Promise((resolve) => {
    if (server.child.exitCode !== null) return resolve();
    server.child.once('exit', () => resolve());
    server.child.disconnect();
    setTimeout(() => server.child.kill('SIGKILL'), 5000).unref();
  });
}

/** Fetches `path` once and checks the server sends exactly `expected` (every variant serves the same bytes). */
function check(port: number, path: string, expected: Buffer, variant: string): Promise<void> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        if (res.statusCode !== 200 || !body.equals(expected)) {
          reject(new Error(`serve bench: ${variant} answered ${res.statusCode} with ${body.length} bytes for ${path}, expected 200 with ${expected.length}`));
        } else resolve();
      });
    }).on('error', reject);
  });
}

async function load(port: number, path: string, connections: number, seconds: number): Promise<{ rps: number; p99: number }> {
  const result = await autocannon({ url: `http://127.0.0.1:${port}${path}`, connections, duration: seconds, pipelining: 1 });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`serve bench: ${path} on port ${port}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  }
  return { rps: result.requests.total / result.duration, p99: result.latency.p99 };
}

/**
 * Runs the serve comparison and returns its rows. Spawns one child process per variant, removes its
 * temporary directory and children before returning.
 */
export async function runServeBench(opts: ServeBenchOptions = {}): Promise<ServeRow[]> {
  const connections = opts.connections ?? 32;
  const duration = opts.durationSeconds ?? 3;
  const warmup = opts.warmupSeconds ?? 1;
  const rounds = opts.rounds ?? 2;
  const log = opts.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const files = makeFiles();
  const wanted = (caseName: string, variant: string): boolean => !opts.filter || opts.filter.test(`serve/${caseName}/${variant}`);
  // Only the servers some case still needs are started.
  const variants = (opts.variants ?? SERVE_VARIANTS).filter((v) => [...files.keys()].some((name) => wanted(name, v)));

  const dir = mkdtempSync(join(tmpdir(), 'cachefs-serve-bench-'));
  const servers: RunningServer[] = [];
  try {
    for (const { name, body } of files.values()) writeFileSync(join(dir, name), body);
    for (const variant of variants) servers.push(await startServer(variant, dir));

    const rows: ServeRow[] = [];
    for (const [caseName, file] of files) {
      const path = `/${file.name}`;
      const active = servers.filter((s) => wanted(caseName, s.variant));
      if (active.length === 0) continue;
      for (const s of active) {
        await check(s.port, path, file.body, s.variant);
        log(`serve: ${caseName} ${s.variant}: warm-up ${warmup} s`);
        await load(s.port, path, connections, warmup);
      }
      const sums = new Map<string, { rps: number; p99: number }>(active.map((s) => [s.variant, { rps: 0, p99: 0 }]));
      for (let round = 0; round < rounds; round++) {
        const order = round % 2 === 0 ? active : [...active].reverse();
        for (const s of order) {
          const got = await load(s.port, path, connections, duration);
          log(`serve: ${caseName} ${s.variant} round ${round + 1}/${rounds}: ${Math.round(got.rps)} req/s, p99 ${got.p99} ms`);
          const sum = sums.get(s.variant)!;
          sum.rps += got.rps;
          sum.p99 += got.p99;
        }
      }
      for (const s of active) {
        const sum = sums.get(s.variant)!;
        rows.push({ suite: 'serve', name: caseName, variant: s.variant, requestsPerSec: Math.round(sum.rps / rounds), p99Ms: Number((sum.p99 / rounds).toFixed(2)) });
      }
    }
    return rows;
  } finally {
    await Promise.all(servers.map(stopServer));
    rmSync(dir, { recursive: true, force: true });
  }
}

function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || b === 0) return '—';
  return `${(a / b).toFixed(2)}×`;
}

/** The suite's Markdown table: per file, each variant's req/s and p99, and cachefs's ratios. */
export function formatServeTable(rows: readonly ServeRow[]): string {
  const lines = [
    '| file | variant | req/s | p99 ms | ÷ sirv | ÷ limit |',
    '|------|---------|------:|-------:|-------:|--------:|',
  ];
  for (const name of [...new Set(rows.map((r) => r.name))]) {
    const of = (v: string): ServeRow | undefined => rows.find((r) => r.name === name && r.variant === v);
    for (const r of rows.filter((x) => x.name === name)) {
      lines.push(
        `| ${name} | ${r.variant} | ${r.requestsPerSec.toLocaleString('en-US')} | ${r.p99Ms} | ${ratio(r.requestsPerSec, of('sirv')?.requestsPerSec)} | ${ratio(r.requestsPerSec, of('limit')?.requestsPerSec)} |`,
      );
    }
  }
  return lines.join('\n');
}

/**
 * Reads the suite's own words: `--connections N --duration S --warmup S --rounds N --variants a,b`, or
 * the same as `key=value` words (`connections=64 duration=5`), which is the form that passes through
 * `npm run bench -- serve …` (whose own parser owns the `--` options).
 */
export function serveOptionsFromArgs(args: readonly string[]): ServeBenchOptions {
  const opts: ServeBenchOptions = {};
  const words: [string, string | undefined][] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--')) {
      if (eq > 0) words.push([arg.slice(2, eq), arg.slice(eq + 1)]);
      else words.push([arg.slice(2), args[++i]]);
    } else if (eq > 0) {
      words.push([arg.slice(0, eq), arg.slice(eq + 1)]);
    } else {
      throw new Error(`serve bench: unexpected argument ${arg} (use key=value, e.g. connections=64)`);
    }
  }
  for (const [key, value] of words) {
    const number = (): number => {
      const n = Number(value);
      if (value === undefined || !Number.isFinite(n) || n <= 0) throw new Error(`serve bench: ${key} wants a positive number, got ${value}`);
      return n;
    };
    if (key === 'connections') opts.connections = Math.round(number());
    else if (key === 'duration') opts.durationSeconds = number();
    else if (key === 'warmup') opts.warmupSeconds = number();
    else if (key === 'rounds') opts.rounds = Math.round(number());
    else if (key === 'variants') {
      const list = (value ?? '').split(',').filter(Boolean);
      const bad = list.filter((v) => !(SERVE_VARIANTS as readonly string[]).includes(v));
      if (list.length === 0 || bad.length > 0) throw new Error(`serve bench: variants takes a comma list of ${SERVE_VARIANTS.join(', ')}`);
      opts.variants = list as ServeVariant[];
    } else throw new Error(`serve bench: unknown option ${key} (known: connections, duration, warmup, rounds, variants)`);
  }
  return opts;
}

/**
 * The suite as `npm run bench -- serve` runs it (not in the default run: it takes about two minutes
 * and starts child processes). `--rounds` and `--filter` apply; the suite's own settings are words:
 * `npm run bench -- serve connections=64 duration=5 variants=cachefs,limit`.
 */
export const serveSuite: Suite<ServeRow> = {
  name: 'serve',
  description: 'HTTP load: cachefs serve against sirv and a bare node:http limit, autocannon on loopback (words: connections= duration= warmup= rounds= variants=)',
  inDefaultRun: false,
  run: (opts) =>
    runServeBench({
      ...(opts.rounds !== undefined ? { rounds: opts.rounds } : {}),
      ...(opts.filter !== undefined ? { filter: opts.filter } : {}),
      ...serveOptionsFromArgs(opts.args),
    }),
  format: (rows) => formatServeTable(rows),
};
