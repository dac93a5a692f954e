/**
 * The client side of `cachefs warm` and `cachefs stats`: talks to a running `cachefs serve` through its
 * admin endpoints. `requestWarm` and `fetchStats` are the protocol; `runWarm` and `runStats` add the
 * terminal (a progress bar on a TTY, plain lines otherwise) and Ctrl-C, which cancels the warming on
 * the server too: aborting the request closes the connection, and the server aborts on that.
 */
import { readFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import cliProgress from 'cli-progress';
import { formatSize } from './units.js';
import { describeProgress, detailLines, warmFellShort } from './warm-report.js';
import { STATS_PATH, WARM_PATH, type AdminErrorBody, type WarmLine, type WarmPriority, type WarmProgress, type WarmRequest } from '../server/warm-protocol.js';

/** A failure talking to the server; `code` says which (`ECONNREFUSED`, `ERR_CACHEFS_FORBIDDEN`, …). */
export class ClientError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ClientError';
  }
}

/** Where the server is and how to authenticate. */
export interface ServerTarget {
  /** The server's base URL, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** The admin token, when the server was started with `--admin-token`. */
  token?: string;
}

function endpoint(base: string, path: string): URL {
  let url: URL;
  try {
    url = new URL(path, base);
  } catch {
    throw new ClientError('ERR_INVALID_URL', `--url: ${JSON.stringify(base)} is not a URL (e.g. http://127.0.0.1:8080)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ClientError('ERR_INVALID_URL', `--url: ${JSON.stringify(base)} must be an http: or https: URL`);
  }
  return url;
}

/** Sends one request; resolves with the response (body not read) or rejects with a ClientError. */
function send(url: URL, method: string, token: string | undefined, body: string | undefined, signal?: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Accept: 'application/json, application/x-ndjson' };
    if (token !== undefined) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    const make = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = make(url, { method, headers, agent: false, ...(signal ? { signal } : {}) }, resolve);
    req.on('error', (err: Error & { code?: string }) => {
      if (signal?.aborted) reject(new ClientError('ABORT_ERR', 'cancelled'));
      else reject(new ClientError(err.code ?? 'ERR_CACHEFS_CLIENT', `cannot reach cachefs serve at ${url.origin}: ${err.message}`));
    });
    req.end(body);
  });
}

async function readAll(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Turns a non-2xx answer into a ClientError with the server's code and message. */
async function failure(res: IncomingMessage, url: URL): Promise<ClientError> {
  const text = await readAll(res);
  try {
    const parsed = JSON.parse(text) as AdminErrorBody;
    if (parsed.error?.code) return new ClientError(parsed.error.code, `${url.pathname}: ${parsed.error.message}`, res.statusCode);
  } catch {
    // not our JSON: an older server, a proxy, or a plain-text status
  }
  return new ClientError(`HTTP_${res.statusCode}`, `${url.pathname}: the server answered ${res.statusCode} ${text.trim().slice(0, 200)}`, res.statusCode);
}

/** `GET /_cachefs/stats`. */
export async function fetchStats(target: ServerTarget): Promise<Record<string, unknown>> {
  const url = endpoint(target.url, STATS_PATH);
  const res = await send(url, 'GET', target.token, undefined);
  if (res.statusCode !== 200) throw await failure(res, url);
  return JSON.parse(await readAll(res)) as Record<string, unknown>;
}

export interface WarmCall extends ServerTarget, WarmRequest {
  /** Aborting closes the connection, which cancels the warming on the server. */
  signal?: AbortSignal;
  /** Each line the server streams, progress and final. */
  onLine?: (line: WarmLine) => void;
}

/**
 * `POST /_cachefs/warm`; resolves with the final line (`done`, or `error` for a warming that failed on
 * the server), rejects with a ClientError when the request could not be made or was cancelled.
 */
export async function requestWarm(call: WarmCall): Promise<WarmLine> {
  const url = endpoint(call.url, WARM_PATH);
  const body: WarmRequest = {};
  if (call.patterns?.length) body.patterns = call.patterns;
  if (call.paths?.length) body.paths = call.paths;
  if (call.concurrency !== undefined) body.concurrency = call.concurrency;
  if (call.priority !== undefined) body.priority = call.priority;
  if (call.verbose === true) body.verbose = true;
  const res = await send(url, 'POST', call.token, JSON.stringify(body), call.signal);
  if (res.statusCode !== 200) throw await failure(res, url);
  let pending = '';
  let last: WarmLine | undefined;
  try {
    for await (const chunk of res) {
      pending += (chunk as Buffer).toString('utf8');
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const text = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        if (text === '') continue;
        const line = JSON.parse(text) as WarmLine;
        last = line;
        call.onLine?.(line);
      }
    }
  } catch (err) {
    if (call.signal?.aborted) throw new ClientError('ABORT_ERR', 'cancelled');
    throw new ClientError('ERR_CACHEFS_CLIENT', `the warm stream broke: ${(err as Error).message}`);
  }
  if (call.signal?.aborted) throw new ClientError('ABORT_ERR', 'cancelled');
  if (last === undefined || last.type === 'progress') {
    throw new ClientError('ERR_CACHEFS_CLIENT', 'the server closed the warm stream before it finished');
  }
  return last;
}

/** Reads a list file (`-` = standard input): one path a line, blank lines and `#` comments skipped. */
export async function readPathList(file: string): Promise<string[]> {
  let text: string;
  try {
    text = file === '-' ? await readAll(process.stdin as unknown as IncomingMessage) : await readFile(file, 'utf8');
  } catch (err) {
    const e = err as { code?: string; message: string };
    throw new ClientError(e.code ?? 'ERR_CACHEFS_CLIENT', `--list: cannot read ${file}: ${e.message}`);
  }
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** Where `runWarm`/`runStats` write: replaceable in tests. */
export interface Terminal {
  out: NodeJS.WritableStream & { isTTY?: boolean };
  err: NodeJS.WritableStream & { isTTY?: boolean };
}

const defaultTerminal = (): Terminal => ({ out: process.stdout, err: process.stderr });

const describe = describeProgress;

export interface WarmCommand extends ServerTarget {
  patterns: string[];
  listFile?: string;
  concurrency?: number;
  priority?: WarmPriority;
  /**
   * `true`: a bar even when stderr is not a terminal; `false` (`--no-progress`): no progress at all,
   * only the summary. Default: a bar on a terminal, plain lines otherwise.
   */
  progressBar?: boolean;
  json?: boolean;
  /** List every failed file (`--verbose`), not only the first ones. */
  verbose?: boolean;
}

/**
 * `cachefs warm`: returns the exit code (0 all warmed; 1 when some files failed, nothing matched, the
 * warm evicted files it had loaded, or the warming failed; 130 cancelled with Ctrl-C).
 */
export async function runWarm(cmd: WarmCommand, term: Terminal = defaultTerminal()): Promise<number> {
  const paths = cmd.listFile !== undefined ? await readPathList(cmd.listFile) : [];
  if (cmd.patterns.length === 0 && paths.length === 0) {
    throw new ClientError('ERR_CACHEFS_USAGE', cmd.listFile !== undefined ? `--list: ${cmd.listFile} names no paths` : 'give at least one glob, or --list FILE');
  }
  const controller = new AbortController();
  const onSigint = (): void => controller.abort();
  process.once('SIGINT', onSigint);
  const quiet = cmd.progressBar === false;
  const useBar = !quiet && (cmd.progressBar ?? term.err.isTTY === true);
  const bar = useBar
    ? new cliProgress.SingleBar(
        {
          stream: term.err,
          format: 'warming [{bar}] {percentage}% | {value}/{total} files | {errors} errors | {read}',
          hideCursor: true,
          clearOnComplete: false,
          forceRedraw: !term.err.isTTY,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let started = false;
  const show = (p: WarmProgress): void => {
    if (quiet) return;
    if (bar === undefined) {
      term.err.write(`warm: ${describe(p)}\n`);
      return;
    }
    const payload = { errors: p.errors, read: formatSize(p.bytesRead) };
    if (!started) {
      bar.start(p.total, p.completed, payload);
      started = true;
    } else {
      bar.setTotal(p.total);
      bar.update(p.completed, payload);
    }
  };
  try {
    const final = await requestWarm({
      url: cmd.url,
      ...(cmd.token !== undefined ? { token: cmd.token } : {}),
      patterns: cmd.patterns,
      paths,
      ...(cmd.concurrency !== undefined ? { concurrency: cmd.concurrency } : {}),
      ...(cmd.priority !== undefined ? { priority: cmd.priority } : {}),
      ...(cmd.verbose ? { verbose: true } : {}),
      signal: controller.signal,
      onLine: (line) => show(line),
    });
    bar?.stop();
    if (cmd.json) term.out.write(JSON.stringify(final) + '\n');
    const details = detailLines(final, cmd.patterns);
    if (final.type === 'error') {
      term.err.write(`warm: failed on the server: ${final.code}: ${final.message}\n`);
      for (const line of details) term.err.write(`warm: ${line.trimStart()}\n`);
      return 1;
    }
    if (!cmd.json) term.out.write(`warmed ${describe(final)}\n`);
    for (const line of details) term.err.write(line.startsWith('  ') ? `warm:${line}\n` : `warm: ${line}\n`);
    return warmFellShort(final) ? 1 : 0;
  } catch (err) {
    bar?.stop();
    if (err instanceof ClientError && err.code === 'ABORT_ERR') {
      term.err.write('warm: cancelled; the server stops warming too\n');
      return 130;
    }
    throw err;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

const SIZE_FIELDS = new Set(['bytesUsed', 'maxBytes', 'bytesShed', 'bytesRead']);

/** Renders stats as aligned `name  value` lines (sizes human-readable, hit rate in percent). */
export function formatStats(stats: Record<string, unknown>): string {
  const width = Math.max(...Object.keys(stats).map((k) => k.length));
  const lines = Object.entries(stats).map(([k, v]) => {
    let shown: string;
    if (typeof v === 'number' && SIZE_FIELDS.has(k)) shown = k === 'maxBytes' && v === 0 ? 'no limit' : `${formatSize(v)} (${v})`;
    else if (k === 'hitRate' && typeof v === 'number') shown = `${(v * 100).toFixed(1)}%`;
    else if (k === 'ttl' && typeof v === 'number') shown = v === 0 ? 'none' : `${v} ms`;
    else shown = typeof v === 'object' ? JSON.stringify(v) : String(v);
    return `${k.padEnd(width)}  ${shown}`;
  });
  return lines.join('\n') + '\n';
}

/** `cachefs stats`: prints the server's stats; returns the exit code. */
export async function runStats(cmd: ServerTarget & { json?: boolean }, term: Terminal = defaultTerminal()): Promise<number> {
  const stats = await fetchStats(cmd);
  term.out.write(cmd.json ? JSON.stringify(stats, null, 2) + '\n' : formatStats(stats));
  return 0;
}
