/**
 * The `cachefs` command: `serve`, `warm`, `stats`, `bench`. Built with commander, so every subcommand
 * has `--help`; sizes and durations are read by units.ts and a bad value fails before anything starts,
 * naming the flag.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { CacheFS } from '../fs/cachefs.js';
import { nodeBackend } from '../backend/node.js';
import { resolveOptions, type CacheFSOptions, type TtlRule, type WriteMode } from '../options.js';
import { POLICY_NAMES, type PolicyName } from '../policy/policy.js';
import { isRemoteUrl, remoteBackend } from './backend-url.js';
import { runStats, runWarm } from './client.js';
import { createCacheServer } from '../server/serve.js';
import { defaultNamespace, isClusterWorker, reportListening, runWorkers } from './cluster.js';
import { formatSize, parseCount, parseDuration, parseSize, UnitError } from './units.js';
import type { WarmPriority } from '../server/warm-protocol.js';
import type { WarmOutcome } from '../server/admin.js';
import { describeProgress, detailLines } from './warm-report.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The package root: main.js lives in dist/src/cli/. */
const packageRoot = resolve(here, '..', '..', '..');

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

/** Adapts a units.ts parser to commander, whose InvalidArgumentError names the flag in its message. */
function parser<T>(parse: (value: string, flag: string) => T): (value: string) => T {
  return (value: string) => {
    try {
      return parse(value, 'value');
    } catch (err) {
      if (err instanceof UnitError) throw new InvalidArgumentError(err.message.replace(/^value: /, ''));
      throw err;
    }
  };
}

const size = parser(parseSize);
const duration = parser(parseDuration);
const count = parser((v, f) => parseCount(v, f));
const port = parser((v, f) => parseCount(v, f, 65535));
const revalidate = parser((v, f): 'never' | 'always' | number => (v === 'never' || v === 'always' ? v : parseDuration(v, f)));
const ttlRule = (value: string, previous: TtlRule[] = []): TtlRule[] => {
  const eq = value.lastIndexOf('=');
  if (eq <= 0) throw new InvalidArgumentError('write GLOB=DURATION, e.g. "**/*.html=30s"');
  return [...previous, { pattern: value.slice(0, eq), ttl: duration(value.slice(eq + 1)) }];
};

/** The options of `cachefs serve`, as commander hands them over. */
interface ServeFlags {
  port: number;
  host: string;
  writeMode: WriteMode;
  eviction: PolicyName;
  maxBytes: number;
  maxEntries: number;
  ttl: number;
  ttlRule?: TtlRule[];
  flushInterval: number;
  flushOnClose: boolean;
  metadataCache: boolean;
  metadataMaxEntries: number;
  pool: boolean;
  journal?: string;
  journalSync?: boolean;
  revalidate?: 'never' | 'always' | number;
  watch?: boolean;
  maxHeapUsed?: number;
  maxRss?: number;
  name?: string;
  admin: boolean;
  metrics: boolean;
  adminToken?: string;
  listing?: boolean;
  dotfiles?: boolean;
  maxAge?: number;
  writable?: boolean;
  maxUpload: number;
  shutdownTimeout: number;
  quiet?: boolean;
  redis?: string;
  namespace?: string;
  consistency?: 'eventual' | 'strict';
  workers?: number;
}

/** CacheFS options from the flags (every option of API.md has a flag). */
export function cacheOptionsOf(flags: ServeFlags, dir = '.'): CacheFSOptions {
  const options: CacheFSOptions = {
    writeMode: flags.writeMode,
    eviction: flags.eviction,
    maxBytes: flags.maxBytes,
    maxEntries: flags.maxEntries,
    ttl: flags.ttl,
    flushInterval: flags.flushInterval,
    flushOnClose: flags.flushOnClose,
    metadataCache: flags.metadataCache,
    metadataMaxEntries: flags.metadataMaxEntries,
    pool: flags.pool,
    revalidate: flags.revalidate,
    watch: flags.watch !== false,
    ttlRules: flags.ttlRule ?? [],
  };
  if (flags.journal !== undefined) options.journal = resolve(flags.journal);
  if (flags.journalSync) options.journalSync = true;
  if (flags.name !== undefined) options.name = flags.name;
  if (flags.redis !== undefined) {
    options.tier = { redis: flags.redis, namespace: flags.namespace ?? defaultNamespace(dir), consistency: flags.consistency ?? 'eventual' };
  }
  if (flags.maxHeapUsed !== undefined || flags.maxRss !== undefined) {
    options.memoryPressure = {
      ...(flags.maxHeapUsed !== undefined ? { maxHeapUsed: flags.maxHeapUsed } : {}),
      ...(flags.maxRss !== undefined ? { maxRss: flags.maxRss } : {}),
    };
  }
  return options;
}

/** Raised for a bad command line that commander could not catch (a missing directory, say). */
export class UsageError extends Error {
  readonly code = 'ERR_CACHEFS_USAGE';
}

/**
 * The served cache, watching DIR unless --no-watch: users of a file server expect the current file. If
 * watching cannot start, changes are noticed by revalidation instead (every second unless --revalidate
 * says otherwise). Returns the cache and a sentence for the banner saying how changes are noticed.
 */
function openServedCache(dir: string, flags: ServeFlags, options: CacheFSOptions): { cfs: CacheFS; coherence: string } {
  const revalidation = flags.revalidate === 'never' || flags.revalidate === undefined ? undefined
    : flags.revalidate === 'always' ? 'checked on every request (--revalidate always)' : `checked after ${flags.revalidate} ms (--revalidate)`;
  if (!options.watch) {
    return { cfs: new CacheFS(nodeBackend(dir), options), coherence: revalidation ?? 'not noticed (--no-watch; add --revalidate to check files)' };
  }
  try {
    return { cfs: new CacheFS(nodeBackend(dir), options), coherence: `watched: an edit is served at once${revalidation ? `; also ${revalidation}` : ''} (--no-watch to turn off)` };
  } catch (err) {
    const fallback: CacheFSOptions = { ...options, watch: false, revalidate: options.revalidate === 'never' || options.revalidate === undefined ? 1000 : options.revalidate };
    const why = (err as Error)?.message ?? String(err);
    return { cfs: new CacheFS(nodeBackend(dir), fallback), coherence: `cannot watch (${why}): files are checked against the disk after ${fallback.revalidate === 1000 ? '1 s' : String(fallback.revalidate)}` };
  }
}

async function serve(dir: string, flags: ServeFlags, log: (line: string) => void): Promise<number> {
  const remote = isRemoteUrl(dir);
  if (!remote) {
    let stat;
    try {
      stat = statSync(dir);
    } catch {
      throw new UsageError(`serve: ${dir}: no such directory`);
    }
    if (!stat.isDirectory()) throw new UsageError(`serve: ${dir} is not a directory`);
  }
  const workers = flags.workers ?? 1;
  if (flags.redis === undefined && (workers > 1 || flags.namespace !== undefined || (flags.consistency ?? 'eventual') !== 'eventual')) {
    throw new UsageError('serve: --workers, --namespace and --consistency need --redis (workers share their cache through it)');
  }
  if (workers > 1 && flags.journal !== undefined) throw new UsageError('serve: one journal cannot serve several --workers');
  const options = cacheOptionsOf(flags, dir);
  if (workers > 1 && !isClusterWorker()) {
    resolveOptions(options); // a bad option fails here, once, rather than in every worker
    return runWorkers(workers, log);
  }
  let cfs: CacheFS;
  let coherence: string;
  if (remote) {
    // A network store has no watcher: coherence by revalidation (the backend's default, 5 s).
    cfs = new CacheFS(remoteBackend(dir), { ...options, watch: false });
    const after = flags.revalidate ?? 5000;
    coherence = after === 'never' ? 'not noticed (--revalidate never)' : after === 'always' ? 'checked on every request (--revalidate always)'
      : `checked against the store after ${after} ms (a network store cannot be watched)`;
  } else {
    ({ cfs, coherence } = openServedCache(dir, flags, options));
  }
  await cfs.ready();
  const server = createCacheServer(cfs, {
    admin: flags.admin,
    metrics: flags.metrics,
    ...(flags.adminToken !== undefined && flags.adminToken !== '' ? { adminToken: flags.adminToken } : {}),
    listing: flags.listing === true,
    dotfiles: flags.dotfiles === true,
    ...(flags.maxAge !== undefined ? { maxAgeSeconds: Math.floor(flags.maxAge / 1000) } : {}),
    writable: flags.writable === true,
    maxUploadBytes: flags.maxUpload,
    shutdownTimeoutMs: flags.shutdownTimeout,
  });
  server.on('error', (err: unknown) => log(`cachefs serve: error: ${(err as Error)?.stack ?? String(err)}`));
  if (!flags.quiet) {
    server.on('warm', (w: WarmOutcome) => {
      log(`cachefs serve: warm ${w.outcome}: ${describeProgress(w.progress)}`);
      for (const line of detailLines({ ...w.progress, failures: w.failures, failuresOmitted: w.failuresOmitted })) {
        log(`cachefs serve: warm ${line.trimStart()}`);
      }
    });
  }
  let address;
  try {
    address = await server.listen(flags.port, flags.host);
  } catch (err) {
    await cfs.close();
    const e = err as { code?: string; message: string };
    throw Object.assign(new Error(`serve: cannot listen on ${flags.host}:${flags.port}: ${e.message}`), { code: e.code ?? 'ERR_CACHEFS_LISTEN' });
  }
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  // The first line on stdout is the URL: scripts (and the tests) read the port from it. With
  // --workers, the primary prints it once.
  if (isClusterWorker()) reportListening(`http://${host}:${address.port}/`);
  else process.stdout.write(`cachefs serve: http://${host}:${address.port}/\n`);
  if (!flags.quiet) {
    log(
      `cachefs serve: ${resolve(dir)} — ${flags.writeMode}, ${flags.eviction}, ` +
        `max ${flags.maxBytes === 0 ? 'unlimited' : formatSize(flags.maxBytes)}` +
        `${flags.admin ? `, admin at /_cachefs/ (${flags.adminToken ? 'token' : 'loopback only'})` : ''}`,
    );
    log(`cachefs serve: changes on disk: ${coherence}`);
  }

  return new Promise<number>((done) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) {
        log(`cachefs serve: ${signal} again: exiting now, dirty data not flushed${flags.journal ? ' (the journal will replay it)' : ''}`);
        process.exit(130);
      }
      stopping = true;
      if (!flags.quiet) log(`cachefs serve: ${signal}: finishing requests and flushing…`);
      // A stop never takes longer than --shutdown-timeout, whatever is still running.
      const deadline = setTimeout(() => {
        log(`cachefs serve: the stop took longer than --shutdown-timeout (${flags.shutdownTimeout} ms): exiting now${flags.journal ? ' (the journal will replay unflushed writes)' : ', unflushed writes are lost'}`);
        process.exit(1);
      }, flags.shutdownTimeout);
      const finish = (code: number): void => {
        clearTimeout(deadline);
        done(code);
        // Nothing of ours is left running; a call stuck in the thread pool must not keep the process alive.
        setTimeout(() => process.exit(process.exitCode ?? code), 200).unref();
      };
      server
        .close()
        .then(() => cfs.close())
        .then(
          () => {
            if (!flags.quiet) log('cachefs serve: stopped');
            finish(0);
          },
          (err: unknown) => {
            log(`cachefs serve: flush failed, data may be lost: ${(err as Error)?.message ?? String(err)}`);
            finish(1);
          },
        );
    };
    // A worker stops on the primary's SIGTERM; the SIGINT a terminal sends the whole group is the primary's.
    process.on('SIGINT', () => (isClusterWorker() ? undefined : stop('SIGINT')));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
}

/** The `cachefs bench` runner: the suite lives in dist/bench/index.js, next to dist/src. */
function bench(args: readonly string[]): Promise<number> {
  const entry = join(packageRoot, 'dist', 'bench', 'index.js');
  if (!existsSync(entry)) {
    // The suites are not published (bench/ is not in the package): say where they are instead.
    const clone = existsSync(join(packageRoot, 'bench'));
    throw Object.assign(
      new Error(clone
        ? 'bench: the benchmark suite is not built yet: run `npm run build` (or `npm run bench -- <suite>`)'
        : 'bench is a repository command: the suites are not part of the installed package; in a clone of the cachefs repository run `npm run bench -- <suite>`'),
      { code: 'ERR_CACHEFS_NO_BENCH' },
    );
  }
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--expose-gc', entry, ...args], { stdio: 'inherit' });
    child.on('error', fail);
    const forward = (signal: NodeJS.Signals): void => {
      child.kill(signal);
    };
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      done(code ?? (signal ? 128 + 2 : 1));
    });
  });
}

/** Builds the program; `setExit` receives each action's exit code. */
export function buildProgram(setExit: (code: number) => void = (code) => (process.exitCode = code)): Command {
  const log = (line: string): void => {
    process.stderr.write(line + '\n');
  };
  const program = new Command('cachefs')
    .description('Serve a directory over HTTP through a cachefs cache, warm it, watch it, measure it.')
    .version(version(), '-V, --version')
    .showHelpAfterError('(add --help for usage)')
    .configureHelp({ sortOptions: false });

  program
    .command('serve')
    .description('serve DIR over HTTP through a cache (GET/HEAD, ranges, ETag/304, index.html); SIGINT/SIGTERM stop gracefully and flush')
    .argument('<dir>', 'the directory to serve (nothing outside it is reachable, links included), or sftp://user@host[:port]/path, webdav://[user@]host[:port]/path, webdavs://… (secrets from CACHEFS_SFTP_KEY, CACHEFS_SFTP_PASSPHRASE, CACHEFS_SFTP_PASSWORD, CACHEFS_WEBDAV_PASSWORD or the SSH agent)')
    .option('-p, --port <port>', 'TCP port (0 picks a free one)', port, 8080)
    .option('-H, --host <host>', 'address to listen on (0.0.0.0 or :: for every interface)', '127.0.0.1')
    .addOption(new Option('--write-mode <mode>', 'how PUT/DELETE writes reach the disk').choices(['write-through', 'write-back', 'write-around']).default('write-through'))
    .addOption(new Option('--eviction <policy>', 'which entry leaves first when full').choices([...POLICY_NAMES]).default('lru'))
    .addOption(new Option('--max-bytes <size>', 'cached file data, e.g. 256MiB, 1.5GB (0 = no limit)').argParser(size).default(100 * 1024 * 1024, '100MiB'))
    .option('--max-entries <n>', 'cached files (0 = no limit)', count, 0)
    .option('--ttl <duration>', 'how long an entry stays valid, e.g. 5m (0 = forever)', duration, 0)
    .option('--ttl-rule <glob=duration>', 'per-path TTL, first match wins (repeatable), e.g. "**/*.html=30s"', ttlRule)
    .addOption(new Option('--flush-interval <duration>', 'background flush period in write-back mode (0 = none)').argParser(duration).default(30_000, '30s'))
    .option('--no-flush-on-close', 'do not flush a file when its handle closes')
    .option('--no-metadata-cache', 'do not cache stat results (on by default for serving)')
    .option('--metadata-max-entries <n>', 'cached stat results (0 = no limit)', count, 0)
    .option('--no-pool', 'plain buffers instead of pooled storage (to compare)')
    .option('--journal <dir>', 'journal write-back writes in DIR, replayed after a crash')
    .option('--journal-sync', 'fsync each journal append')
    .option('--revalidate <when>', "check entries against the store: never, always, or after a duration (e.g. 10s); default: the store's (never for a directory, 5s for sftp:// and webdav://)", revalidate)
    .option('--no-watch', 'do not watch DIR for changes (by default an edit on disk is served at once; without watching, only --revalidate notices it)')
    .option('--max-heap-used <size>', 'shed clean entries above this heap use', size)
    .option('--max-rss <size>', 'shed clean entries above this resident set size', size)
    .option('--name <name>', 'cache name for metrics labels')
    .addOption(new Option('--admin-token <token>', 'admin endpoints (and writes) need "Authorization: Bearer TOKEN", from any address').env('CACHEFS_ADMIN_TOKEN'))
    .option('--no-admin', 'no /_cachefs/ endpoints at all')
    .option('--no-metrics', 'no /_cachefs/metrics and /_cachefs/stats')
    .option('--listing', 'list directories that have no index.html')
    .option('--dotfiles', 'serve files whose name starts with a dot')
    .option('--max-age <duration>', 'send Cache-Control: public, max-age=… (e.g. 1h)', duration)
    .option('--writable', 'accept PUT and DELETE (same access rules as the admin endpoints)')
    .addOption(new Option('--max-upload <size>', 'largest PUT body').argParser(size).default(64 * 1024 * 1024, '64MiB'))
    .addOption(new Option('--shutdown-timeout <duration>', 'how long a stop may take (running requests, then the flush); past it the process exits').argParser(duration).default(10_000, '10s'))
    .option('-q, --quiet', 'only print the URL and errors')
    .option('--redis <url>', 'share the cache with other workers and hosts through Redis (redis://host:port)')
    .option('--namespace <name>', 'the shared tier\'s namespace (default: derived from the absolute path of DIR)')
    .addOption(new Option('--consistency <mode>', 'shared tier: eventual or strict (hits checked with Redis)').choices(['eventual', 'strict']).default('eventual'))
    .option('--workers <k>', 'worker processes on one port (node:cluster), sharing the tier', count, 1)
    .addHelpText(
      'after',
      `
Examples:
  cachefs serve ./public
  cachefs serve ./public --port 3000 --max-bytes 512MiB --ttl 5m --max-age 1h
  CACHEFS_ADMIN_TOKEN=s3cret cachefs serve ./public --host 0.0.0.0
  cachefs serve ./data --writable --write-mode write-back --flush-interval 10s
  cachefs serve ./public --redis redis://127.0.0.1:6379 --workers 4`,
    )
    .action(async (dir: string, flags: ServeFlags) => {
      setExit(await serve(dir, flags, log));
      // A cluster worker's channel to the primary would keep it alive after its server stopped.
      if (isClusterWorker()) process.disconnect?.();
    });

  program
    .command('warm')
    .description('ask a running cachefs serve to load files into its cache, with progress; Ctrl-C cancels on the server too')
    .argument('[globs...]', 'glob patterns of paths to warm, e.g. "**/*.css" "/img/**"')
    .option('-u, --url <url>', 'the server', 'http://127.0.0.1:8080')
    .option('-l, --list <file>', 'also warm the paths listed in FILE (one a line, # comments; - for stdin)')
    .addOption(new Option('-t, --token <token>', 'admin token').env('CACHEFS_ADMIN_TOKEN'))
    .option('-c, --concurrency <n>', 'files loaded at once on the server', count)
    .addOption(new Option('--priority <priority>', 'high pins the files; low loads only what fits').choices(['low', 'normal', 'high']))
    .option('--no-progress', 'no progress at all, only the summary (by default: a bar on a terminal, plain lines otherwise)')
    .option('--verbose', 'list every file that failed (by default the first 10)')
    .option('--json', 'print the final progress as JSON')
    .addHelpText('after', `
Examples:
  cachefs warm '**/*.html' '**/*.css'
  cachefs warm --url http://10.0.0.5:8080 --token "$TOKEN" --list hot-paths.txt`)
    .action(async (globs: string[], flags: { url: string; list?: string; token?: string; concurrency?: number; priority?: WarmPriority; progress: boolean; json?: boolean; verbose?: boolean }) => {
      const code = await runWarm(
        {
          url: flags.url,
          patterns: globs,
          ...(flags.list !== undefined ? { listFile: flags.list } : {}),
          ...(flags.token !== undefined ? { token: flags.token } : {}),
          ...(flags.concurrency !== undefined ? { concurrency: flags.concurrency } : {}),
          ...(flags.priority !== undefined ? { priority: flags.priority } : {}),
          ...(flags.progress === false ? { progressBar: false } : {}),
          ...(flags.json ? { json: true } : {}),
          ...(flags.verbose ? { verbose: true } : {}),
        },
      );
      setExit(code);
    });

  program
    .command('stats')
    .description("print a running cachefs serve's cache statistics")
    .option('-u, --url <url>', 'the server', 'http://127.0.0.1:8080')
    .addOption(new Option('-t, --token <token>', 'admin token').env('CACHEFS_ADMIN_TOKEN'))
    .option('--json', 'print JSON')
    .action(async (flags: { url: string; token?: string; json?: boolean }) => {
      setExit(await runStats({ url: flags.url, ...(flags.token !== undefined ? { token: flags.token } : {}), ...(flags.json ? { json: true } : {}) }));
    });

  program
    .command('bench')
    .description('run a benchmark suite (a repository command: the suites ship with the repository, not the package), e.g. "cachefs bench serve"')
    .argument('[args...]', 'suite name and options (see "cachefs bench -- --help")')
    .allowUnknownOption()
    .helpOption('-h, --help', 'this help; the suite\'s own options: cachefs bench -- --help')
    .action(async (args: string[]) => {
      setExit(await bench(args));
    });

  return program;
}

/**
 * Runs the command line. A failure becomes one line on stderr, `cachefs: <message> [<code>]`, and exit
 * code 1 (commander's own usage errors exit with 1 too).
 */
export async function run(argv: readonly string[] = process.argv): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    const e = err as { code?: string; message?: string };
    const message = e?.message ?? String(err);
    process.stderr.write(`cachefs: ${message}${e?.code && !message.includes(e.code) ? ` [${e.code}]` : ''}\n`);
    process.exitCode = 1;
  }
}
