/**
 * `npm run bench -- remote`: cachefs in front of a network store, beside the bare client doing the same
 * work in the same run. Real servers (OpenSSH's sshd, Apache httpd with mod_dav) on loopback, reached
 * through the tests' latency relay at 2 ms and 20 ms round trips.
 *
 * Rows, per store and round trip:
 * - `tree_walk_cold`: `stat` and `readFile` of each of 1,000 files (20 directories of 50, 1-16 KiB) by a
 *   fresh cache, against the bare client's best concurrent walk (the best of several concurrencies).
 * - `tree_walk_warm`: the same walk again on the cache that walked it (`metadataCache: true`, so `stat`
 *   is cached too), against the bare client walking again (it has nothing to remember).
 * - `hot_reads`: 4 KiB positional reads in a 256 MiB file, 90% of them in a 4 MiB hot region, through
 *   one open handle; hit ratio from the cache's own counters.
 * - `serve_warm`: `cachefs serve` (createCacheServer) in front of the store, every file of the tree
 *   fetched over HTTP (keep-alive, 32 in flight) after one pass warmed it, against the bare client
 *   reading the same files at its best concurrency.
 * `npm run bench -- remote quick` uses 200 files and 500 reads (a smoke run).
 */
import * as fsp from 'node:fs/promises';
import * as http from 'node:http';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import ssh2 from 'ssh2';
import type { SFTPWrapper } from 'ssh2';
import { createClient } from 'webdav';
import { CacheFS, createCacheServer, sftpBackend, webdavBackend, type Backend } from '../src/index.js';
import { startRelay } from '../test/remote/relay.js';
import { startApache, startSshd, type DavServer, type SshServer } from '../test/remote/servers.js';
import type { ReportRow, Suite } from './suite.js';

export interface RemoteRow extends ReportRow {
  /** Milliseconds cachefs took for the whole piece of work. */
  cachefsMs: number;
  /** Milliseconds the bare client took for the same work (its best concurrency for walks). */
  bareMs: number;
  /** How many times faster cachefs was (bare / cachefs). */
  speedup: number;
  /** The cache's hit ratio over the timed work, 0..1. */
  hitRate: number;
  /** What the row's figures mean, in words. */
  note: string;
}

const DIRS = 20;
const HOT_BYTES = 4 * 1024 * 1024;
const BIG_BYTES = 256 * 1024 * 1024;
const READ = 4096;
const CONCURRENCY = [8, 32, 128];

/** The bare client's calls, the same work as the cache's. */
interface Bare {
  stat(p: string): Promise<unknown>;
  readFile(p: string): Promise<Uint8Array>;
  /** A positional read on an open file. */
  openRead(p: string): Promise<{ read(position: number): Promise<number>; close(): Promise<void> }>;
  close(): Promise<void>;
}

/** Runs `work` over `items` with at most `n` in flight. */
async function pool<T>(items: readonly T[], n: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

async function bareSftp(server: SshServer, port: number, root: string, connections: number): Promise<Bare> {
  const channels: { client: InstanceType<typeof ssh2.Client>; sftp: SFTPWrapper }[] = [];
  for (let i = 0; i < connections; i++) {
    channels.push(await new Promise((resolve, reject) => {
      const client = new ssh2.Client();
      client.once('error', reject);
      client.once('ready', () => client.sftp((err, sftp) => (err ? reject(err) : resolve({ client, sftp }))));
      client.connect({ host: '127.0.0.1', port, username: server.username, privateKey: server.privateKey });
    }));
  }
  let turn = 0;
  const pick = (): SFTPWrapper => channels[turn++ % channels.length]!.sftp;
  const full = (p: string): string => path.posix.join(root, p);
  return {
    stat: (p) => new Promise((resolve, reject) => pick().stat(full(p), (e, s) => (e ? reject(e) : resolve(s)))),
    readFile: (p) => new Promise((resolve, reject) => pick().readFile(full(p), (e, d) => (e ? reject(e) : resolve(d)))),
    openRead: async (p) => {
      const sftp = pick();
      const handle = await new Promise<Buffer>((resolve, reject) => sftp.open(full(p), 'r', (e, h) => (e ? reject(e) : resolve(h))));
      return {
        read: (position) => new Promise((resolve, reject) => sftp.read(handle, Buffer.alloc(READ), 0, READ, position, (e, n) => (e ? reject(e) : resolve(n)))),
        close: () => new Promise((resolve) => sftp.close(handle, () => resolve())),
      };
    },
    close: async () => {
      for (const c of channels) c.client.end();
    },
  };
}

function bareWebdav(server: DavServer, port: number, root: string): Bare {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const client = createClient(`http://127.0.0.1:${port}/dav/${root}`, { username: server.username, password: server.password, httpAgent: agent });
  return {
    stat: (p) => client.stat(p),
    readFile: async (p) => new Uint8Array((await client.getFileContents(p, { format: 'binary' })) as Buffer),
    openRead: async (p) => ({
      read: async (position) => ((await client.getFileContents(p, { format: 'binary', headers: { Range: `bytes=${position}-${position + READ - 1}` } })) as Buffer).length,
      close: async () => undefined,
    }),
    close: async () => agent.destroy(),
  };
}

/** Writes the tree and the big file on the server's disk (owned by `owner` when given). */
async function seed(data: string, root: string, files: number, owner?: { uid: number; gid: number }): Promise<string[]> {
  const dir = path.join(data, root);
  await fsp.mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (let d = 0; d < DIRS; d++) {
    await fsp.mkdir(path.join(dir, `d${d}`), { recursive: true });
    for (let f = 0; f < files / DIRS; f++) {
      const p = `/d${d}/f${f}.txt`;
      await fsp.writeFile(path.join(dir, p), randomBytes(1024 + ((d * 131 + f * 977) % (15 * 1024))));
      paths.push(p);
    }
  }
  const big = await fsp.open(path.join(dir, 'big.bin'), 'w');
  const chunk = randomBytes(8 * 1024 * 1024);
  for (let at = 0; at < BIG_BYTES; at += chunk.length) await big.write(chunk, 0, chunk.length, at);
  await big.close();
  // Settled: files changed long ago keep their identity (see src/coherence/identity.ts).
  const old = new Date(Date.now() - 3_600_000);
  for (const p of [...paths, '/big.bin']) await fsp.utimes(path.join(dir, p), old, old);
  if (owner) {
    for (const p of ['', ...Array.from({ length: DIRS }, (_, d) => `d${d}`), ...paths, '/big.bin']) await fsp.chown(path.join(dir, p), owner.uid, owner.gid);
  }
  return paths;
}

/** The 4 KiB read positions: 90% in the hot region at the start, 10% anywhere. A fixed PRNG. */
function positions(count: number): number[] {
  let x = 0x2545f491;
  const rand = (): number => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 2 ** 32;
  };
  return Array.from({ length: count }, () => {
    const span = rand() < 0.9 ? HOT_BYTES : BIG_BYTES;
    return Math.floor((rand() * (span - READ)) / READ) * READ;
  });
}

async function measureStore(kind: 'sftp' | 'webdav', rtt: number, server: SshServer | DavServer, root: string,
  paths: string[], reads: number, rows: RemoteRow[]): Promise<void> {
  const relay = await startRelay(server.port, rtt);
  const variant = `${kind}@${rtt}ms`;
  const makeBackend = (): Backend => kind === 'sftp'
    ? sftpBackend({ host: '127.0.0.1', port: relay.port, username: (server as SshServer).username, privateKey: (server as SshServer).privateKey, root: path.join(server.data, root), timeout: 60_000 })
    : webdavBackend(`http://127.0.0.1:${relay.port}/dav/${root}`, { username: (server as DavServer).username, password: (server as DavServer).password, timeout: 60_000 });
  const makeBare = (): Promise<Bare> => kind === 'sftp'
    ? bareSftp(server as SshServer, relay.port, path.join(server.data, root), 4)
    : Promise.resolve(bareWebdav(server as DavServer, relay.port, root));
  try {
    // The bare client's walks: connected first (a cache keeps its connections too), best concurrency.
    const bare = await makeBare();
    await bare.stat('/');
    const bareTimes: Record<number, number> = {};
    for (const n of CONCURRENCY) {
      bareTimes[n] = await time(() => pool(paths, n, async (p) => { await bare.stat(p); await bare.readFile(p); }));
    }
    const [bestN, bareBest] = Object.entries(bareTimes).sort((a, b) => a[1] - b[1])[0]!;
    process.stderr.write(`bench: ${variant} bare walks ${JSON.stringify(Object.fromEntries(Object.entries(bareTimes).map(([k, v]) => [k, Math.round(v)])))}\n`);

    const cfs = new CacheFS(makeBackend(), { metadataCache: true, maxBytes: 64 * 1024 * 1024 });
    await cfs.stat('/');
    cfs.resetStats();
    const coldMs = await time(() => pool(paths, Number(bestN), async (p) => { await cfs.stat(p); await cfs.readFile(p); }));
    const cold = cfs.stats();
    rows.push({
      suite: 'remote', name: 'tree_walk_cold', variant, cachefsMs: coldMs, bareMs: bareBest, speedup: bareBest / coldMs, hitRate: cold.hitRate,
      note: `${paths.length} files, ${bestN} at a time (the bare client's best)`,
    });
    // The best of at least ten passes and a quarter second: one pass of a warm walk is short enough for a
    // GC or a neighbour's burst on this shared machine to double it, and the first passes after the
    // previous store's phase run code V8 deoptimized on the new cache's objects (its deopt trace shows
    // "wrong map" on the hit path), so three passes measured the JIT's recovery rather than the walk.
    cfs.resetStats();
    let warmMs = Infinity;
    let passes = 0;
    for (const started = performance.now(); passes < 10 || performance.now() - started < 250; passes++) {
      warmMs = Math.min(warmMs, await time(async () => {
        for (const p of paths) {
          await cfs.stat(p);
          await cfs.readFile(p);
        }
      }));
    }
    const warm = cfs.stats();
    rows.push({
      suite: 'remote', name: 'tree_walk_warm', variant, cachefsMs: warmMs, bareMs: bareBest, speedup: bareBest / warmMs, hitRate: warm.hitRate,
      note: `cache: one at a time, best of ${passes} passes; bare: its best concurrent walk`,
    });

    // Positional reads in the big file, one open handle each, 16 in flight.
    const at = positions(reads);
    const bareFile = await bare.openRead('/big.bin');
    const bareReadMs = await time(() => pool(at, 16, (p) => bareFile.read(p)));
    await bareFile.close();
    cfs.resetStats();
    const handle = await cfs.open('/big.bin', 'r');
    const buffers = Array.from({ length: 16 }, () => Buffer.alloc(READ));
    let slot = 0;
    const readMs = await time(() => pool(at, 16, async (p) => {
      const buffer = buffers[slot++ % buffers.length]!;
      const { bytesRead } = await handle.read(buffer, 0, READ, p);
      if (bytesRead !== READ) throw new Error(`remote bench: short read at ${p}`);
    }));
    await handle.close();
    const readStats = cfs.stats();
    rows.push({
      suite: 'remote', name: 'hot_reads', variant, cachefsMs: readMs, bareMs: bareReadMs, speedup: bareReadMs / readMs, hitRate: readStats.hitRate,
      note: `${reads} x 4 KiB, 90% in a 4 MiB region of 256 MiB, 16 in flight`,
    });

    // cachefs serve in front of the store: one pass to warm, then the timed pass over HTTP.
    const server = createCacheServer(cfs, { admin: false });
    const address = await server.listen(0, '127.0.0.1');
    const base = `http://127.0.0.1:${address.port}`;
    const get = async (p: string): Promise<void> => {
      const response = await fetch(base + p);
      if (response.status !== 200) throw new Error(`remote bench: GET ${p} answered ${response.status}`);
      await response.arrayBuffer();
    };
    await pool(paths, 32, get);
    cfs.resetStats();
    const serveMs = await time(() => pool(paths, 32, get));
    const serveStats = cfs.stats();
    const bareReadOnlyMs = await time(() => pool(paths, Number(bestN), (p) => bare.readFile(p)));
    rows.push({
      suite: 'remote', name: 'serve_warm', variant, cachefsMs: serveMs, bareMs: bareReadOnlyMs, speedup: bareReadOnlyMs / serveMs, hitRate: serveStats.hitRate,
      note: `${paths.length} GETs over HTTP, 32 in flight; bare: readFile of each, ${bestN} in flight`,
    });
    await server.close();
    await bare.close();
    await cfs.close();
  } finally {
    await relay.close();
  }
}

export const remoteSuite: Suite<RemoteRow> = {
  name: 'remote',
  description: 'cachefs over SFTP (sshd) and WebDAV (Apache) at 2 ms and 20 ms round trips, beside the bare clients ("quick": smaller)',
  inDefaultRun: false,
  async run(opts) {
    const quick = opts.args.includes('quick');
    const files = quick ? 200 : 1000;
    const reads = quick ? 500 : 3000;
    const rows: RemoteRow[] = [];
    const [sshd, httpd] = await Promise.all([startSshd(), startApache()]);
    try {
      const sftpPaths = await seed(sshd.data, 'tree', files);
      const owner = await fsp.stat(httpd.data);
      const davPaths = await seed(httpd.data, 'tree', files, { uid: owner.uid, gid: owner.gid });
      for (const rtt of [2, 20]) {
        for (const kind of ['sftp', 'webdav'] as const) {
          const variant = `${kind}@${rtt}ms`;
          if (opts.filter && !opts.filter.test(`remote/${variant}`)) continue;
          process.stderr.write(`bench: remote ${variant}\n`);
          await measureStore(kind, rtt, kind === 'sftp' ? sshd : httpd, 'tree', kind === 'sftp' ? sftpPaths : davPaths, reads, rows);
        }
      }
    } finally {
      await Promise.all([sshd.stop(), httpd.stop()]);
    }
    return rows;
  },
  format(rows) {
    const lines = [
      '| work | store | cachefs ms | bare client ms | speed-up | hit ratio | what |',
      '| --- | --- | ---: | ---: | ---: | ---: | --- |',
    ];
    for (const r of rows) {
      lines.push(`| ${r.name} | ${r.variant} | ${r.cachefsMs.toFixed(1)} | ${r.bareMs.toFixed(1)} | ${r.speedup >= 10 ? Math.round(r.speedup).toLocaleString('en-US') : r.speedup.toFixed(2)}x | ${(r.hitRate * 100).toFixed(1)}% | ${r.note} |`);
    }
    return lines.join('\n');
  },
};
