/**
 * The admin endpoints of `cachefs serve`, all below `/_cachefs/`:
 * - `GET /_cachefs/metrics`: Prometheus text from `cfs.exportPrometheus()`;
 * - `GET /_cachefs/stats`: `cfs.detailedStats()` as JSON;
 * - `POST /_cachefs/warm`: warms files and streams progress as NDJSON (see warm-protocol.ts); the
 *   client closing the connection aborts the warming.
 * Access is decided by access.ts before anything else; `metrics: false` removes metrics and stats.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CacheFS } from '../fs/cachefs.js';
import { addProgress, emptyProgress, errorCodeOf, type WarmOptions, type WarmProgress } from '../warm/options.js';
import type { AccessVerdict } from './access.js';
import {
  FIRST_FAILURES,
  METRICS_PATH,
  STATS_PATH,
  WARM_PATH,
  type AdminErrorBody,
  type WarmFailure,
  type WarmFailures,
  type WarmLine,
  type WarmPriority,
  type WarmRequest,
} from './warm-protocol.js';

/** How one warm request ended, reported to the server's listeners. */
export interface WarmOutcome extends WarmFailures {
  outcome: 'done' | 'aborted' | 'failed';
  progress: WarmProgress;
  error?: unknown;
}

export interface AdminOptions {
  /** Serve `/_cachefs/metrics` and `/_cachefs/stats`. Default true. */
  metrics?: boolean;
  /** The access rule (see access.ts). */
  checkAccess: (req: IncomingMessage) => AccessVerdict;
  /** Called when a warm request ends. */
  onWarmEnd?: (outcome: WarmOutcome) => void;
}

/** The admin endpoints; `abortAll` cancels running warms (at shutdown). */
export interface AdminHandler {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  abortAll(reason: string): void;
  /** Warm requests running now. */
  readonly activeWarms: number;
}

/** Largest warm request body accepted (a list of paths): 8 MiB is ~100k paths. */
const MAX_BODY = 8 * 1024 * 1024;
const MAX_CONCURRENCY = 256;
const PROGRESS_EVERY_MS = 100;
const PRIORITIES: readonly WarmPriority[] = ['low', 'normal', 'high'];

function sendJson(res: ServerResponse, status: number, value: unknown, headOnly = false): void {
  const body = JSON.stringify(value, null, 2) + '\n';
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(headOnly ? undefined : body);
}

/** Answers an admin error as `{ error: { code, message } }`. */
export function sendAdminError(res: ServerResponse, status: number, code: string, message: string, extra?: Record<string, string>): void {
  for (const [k, v] of Object.entries(extra ?? {})) res.setHeader(k, v);
  const body: AdminErrorBody = { error: { code, message } };
  sendJson(res, status, body);
}

/** Validates a warm request body; returns the request or an error message. */
export function parseWarmRequest(value: unknown): WarmRequest | string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'the body must be a JSON object';
  const v = value as Record<string, unknown>;
  for (const key of Object.keys(v)) {
    if (!['patterns', 'paths', 'concurrency', 'priority', 'verbose'].includes(key)) return `unknown field "${key}"`;
  }
  const out: WarmRequest = {};
  for (const field of ['patterns', 'paths'] as const) {
    const list = v[field];
    if (list === undefined) continue;
    if (!Array.isArray(list) || !list.every((s) => typeof s === 'string' && s !== '' && !s.includes('\u0000'))) {
      return `"${field}" must be an array of non-empty strings`;
    }
    out[field] = list as string[];
  }
  if ((out.patterns?.length ?? 0) + (out.paths?.length ?? 0) === 0) return 'give "patterns" or "paths" (at least one)';
  if (v.concurrency !== undefined) {
    const c = v.concurrency;
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 1 || c > MAX_CONCURRENCY) {
      return `"concurrency" must be an integer from 1 to ${MAX_CONCURRENCY}`;
    }
    out.concurrency = c;
  }
  if (v.verbose !== undefined) {
    if (typeof v.verbose !== 'boolean') return '"verbose" must be a boolean';
    out.verbose = v.verbose;
  }
  if (v.priority !== undefined) {
    if (!PRIORITIES.includes(v.priority as WarmPriority)) return `"priority" must be one of ${PRIORITIES.join(', ')}`;
    out.priority = v.priority as WarmPriority;
  }
  return out;
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

const add = addProgress;
const ZERO: WarmProgress = Object.freeze(emptyProgress());

function progressOf(p: WarmProgress): WarmProgress {
  return add(ZERO, p);
}

/** Builds the admin endpoints over `cfs`. */
export function createAdminHandler(cfs: CacheFS, options: AdminOptions): AdminHandler {
  const metrics = options.metrics !== false;
  const running = new Set<AbortController>();

  async function metricsEndpoint(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await cfs.exportPrometheus();
    res.writeHead(200, {
      'Content-Type': 'text/plain; version=0.0.4; charset=utf-8',
      'Content-Length': Buffer.byteLength(text),
      'Cache-Control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : text);
  }

  async function warmEndpoint(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const type = req.headers['content-type'];
    if (type !== undefined && !/^application\/json\b/i.test(type)) {
      sendAdminError(res, 415, 'ERR_CACHEFS_BAD_REQUEST', 'send the warm request as application/json');
      return;
    }
    const raw = await readBody(req, MAX_BODY);
    if (raw === 'too-large') {
      sendAdminError(res, 413, 'ERR_CACHEFS_BAD_REQUEST', `the warm request is larger than ${MAX_BODY} bytes`, { Connection: 'close' });
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString('utf8'));
    } catch {
      sendAdminError(res, 400, 'ERR_CACHEFS_BAD_REQUEST', 'the body is not valid JSON');
      return;
    }
    const request = parseWarmRequest(parsed);
    if (typeof request === 'string') {
      sendAdminError(res, 400, 'ERR_CACHEFS_BAD_REQUEST', request);
      return;
    }
    const patterns = request.patterns ?? [];
    const paths = request.paths ?? [];

    const controller = new AbortController();
    running.add(controller);
    // `close` before the response finished means the client went away (or Ctrl-C): stop warming.
    res.on('close', () => {
      if (!res.writableFinished) controller.abort(new Error('client disconnected'));
    });
    res.writeHead(200, { 'Content-Type': 'application/x-ndjson; charset=utf-8', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
    const send = (line: WarmLine): void => {
      if (!res.destroyed && !res.writableEnded) res.write(JSON.stringify(line) + '\n');
    };

    let finished: WarmProgress = ZERO;
    let current: WarmProgress = ZERO;
    let lastSent = 0;
    const onProgress = (p: WarmProgress): void => {
      current = p;
      const now = performance.now();
      if (lastSent === 0 || now - lastSent >= PROGRESS_EVERY_MS) {
        lastSent = now;
        send({ type: 'progress', ...add(finished, current) });
      }
    };
    const failures: WarmFailure[] = [];
    let failuresOmitted = 0;
    const onError = (path: string, error: unknown): void => {
      if (request.verbose !== true && failures.length >= FIRST_FAILURES) {
        failuresOmitted++;
        return;
      }
      failures.push({ path, code: errorCodeOf(error), message: String((error as Error)?.message ?? error) });
    };
    const opts: WarmOptions = {
      skipErrors: true,
      onProgress,
      onError,
      signal: controller.signal,
      ...(request.concurrency !== undefined ? { concurrency: request.concurrency } : {}),
      ...(request.priority !== undefined ? { priority: request.priority } : {}),
    };

    try {
      for (const pattern of patterns) {
        current = ZERO;
        const result = await cfs.warmFromPattern(pattern, opts);
        finished = add(finished, progressOf(result));
        current = ZERO;
        controller.signal.throwIfAborted();
      }
      if (paths.length > 0) {
        current = ZERO;
        const result = await cfs.warm(paths, opts);
        finished = add(finished, progressOf(result));
        current = ZERO;
      }
      controller.signal.throwIfAborted();
      send({ type: 'done', ...finished, failures, failuresOmitted });
      res.end();
      options.onWarmEnd?.({ outcome: 'done', progress: finished, failures, failuresOmitted });
    } catch (err) {
      const progress = add(finished, current);
      const aborted = controller.signal.aborted;
      const e = err as { code?: unknown; message?: unknown };
      const code = aborted ? 'ABORT_ERR' : typeof e?.code === 'string' ? e.code : 'ERR_CACHEFS_WARM';
      const reason = aborted ? (controller.signal.reason as Error | undefined)?.message ?? 'aborted' : String(e?.message ?? err);
      send({ type: 'error', code, message: aborted ? `warming cancelled: ${reason}` : reason, ...progress, failures, failuresOmitted });
      res.end();
      options.onWarmEnd?.({ outcome: aborted ? 'aborted' : 'failed', progress, error: err, failures, failuresOmitted });
    } finally {
      running.delete(controller);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const verdict = options.checkAccess(req);
    if (!verdict.ok) {
      req.resume();
      sendAdminError(res, verdict.status, 'ERR_CACHEFS_FORBIDDEN', verdict.reason, verdict.status === 401 ? { 'WWW-Authenticate': 'Bearer realm="cachefs"' } : undefined);
      return;
    }
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const method = req.method;
    try {
      if (path === WARM_PATH) {
        if (method !== 'POST') {
          req.resume();
          sendAdminError(res, 405, 'ERR_CACHEFS_METHOD', 'use POST', { Allow: 'POST' });
          return;
        }
        await warmEndpoint(req, res);
        return;
      }
      req.resume();
      if (metrics && (path === METRICS_PATH || path === STATS_PATH)) {
        if (method !== 'GET' && method !== 'HEAD') {
          sendAdminError(res, 405, 'ERR_CACHEFS_METHOD', 'use GET', { Allow: 'GET, HEAD' });
          return;
        }
        if (path === METRICS_PATH) await metricsEndpoint(req, res);
        else sendJson(res, 200, cfs.detailedStats(), method === 'HEAD');
        return;
      }
      sendAdminError(res, 404, 'ERR_CACHEFS_NOT_FOUND', `no admin endpoint ${path}`);
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const e = err as { code?: unknown; message?: unknown };
      sendAdminError(res, 500, typeof e?.code === 'string' ? e.code : 'ERR_CACHEFS_ADMIN', String(e?.message ?? err));
    }
  }

  return {
    handle,
    abortAll(reason: string): void {
      for (const c of running) c.abort(new Error(reason));
    },
    get activeWarms(): number {
      return running.size;
    },
  };
}
