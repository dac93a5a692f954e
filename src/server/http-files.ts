/**
 * Static files over HTTP from a {@link CacheFS}: GET and HEAD, one byte range (206, 416), validators
 * (ETag, Last-Modified) with 304 answers, Content-Type by extension, `index.html` for directories and
 * the redirect of `/dir` to `/dir/`, and an optional listing.
 *
 * The hot path (a cached file, no range, no validator) is: a metadata-cache `stat`, a lookup of the
 * response headers computed for that exact (path, ino, size, mtime), a `readFile` that copies out of
 * the cache, and `res.end(bytes)`. Headers are prebuilt as a flat array so `writeHead` builds nothing
 * per request but the status line.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CacheFS } from '../fs/cachefs.js';
import type { FileStats } from '../fs/stats-object.js';
import { contentTypeOf } from './content-types.js';
import { encodePath, parseRequestPath } from './request-path.js';
import { ResponseBuffers } from './response-buffers.js';

/** How files are served. */
export interface FileServingOptions {
  /** List a directory that has no `index.html` (otherwise 404). Default false. */
  listing?: boolean;
  /** Serve paths with a segment starting with `.` (otherwise 404, `/.well-known/` excepted). Default false. */
  dotfiles?: boolean;
  /** Seconds for `Cache-Control: public, max-age=N`; when absent no Cache-Control header is sent. */
  maxAgeSeconds?: number;
  /** Called with errors that became a 500 answer (a backend failure), for the log. */
  onError?: (err: unknown, req: IncomingMessage) => void;
}

/** Files above this size are streamed in chunks through a handle rather than read whole per request. */
const STREAM_ABOVE = 4 * 1024 * 1024;
const STREAM_CHUNK = 1024 * 1024;
/** Bound on the header memo: a crawl over many paths must not grow it without limit. */
const MAX_MEMO = 16_384;

/** The response headers of one file version, computed once. */
interface FileHeaders {
  ino: number;
  size: number;
  mtimeMs: number;
  etag: string;
  lastModified: string;
  /** Whole-second mtime, what Last-Modified and If-Modified-Since can express. */
  mtimeSeconds: number;
  contentType: string;
  /** `writeHead` array for a 200 with the whole body. */
  full: string[];
  /** `writeHead` array for a 304. */
  notModified: string[];
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  416: 'Range Not Satisfiable',
  500: 'Internal Server Error',
};

/** Answers with a short plain-text body (`404 Not Found`). */
export function sendStatus(res: ServerResponse, status: number, extra?: Record<string, string>): void {
  const body = `${status} ${STATUS_TEXT[status] ?? ''}\n`;
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'X-Content-Type-Options': 'nosniff',
    ...extra,
  });
  res.end(body);
}

/** The HTTP status for a failed file system call. */
export function statusOfError(err: unknown): number {
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
    case 'ENAMETOOLONG':
    case 'ELOOP':
    case 'EISDIR':
      return 404;
    case 'EACCES':
    case 'EPERM':
      return 403;
    case 'ERR_INVALID_ARG_VALUE':
      return 400;
    default:
      return 500;
  }
}

/** A strong validator from the file's identity and version, as nginx and Apache derive theirs. */
function etagOf(st: FileStats): string {
  return `"${st.ino.toString(16)}-${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
}

/**
 * Serves files of `cfs` for GET and HEAD requests. The returned function answers every request it is
 * given (other methods get 405); routing of admin paths happens before it.
 */
export function createFileHandler(cfs: CacheFS, options: FileServingOptions = {}): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const listing = options.listing === true;
  const dotfiles = options.dotfiles === true;
  const cacheControl = options.maxAgeSeconds !== undefined ? `public, max-age=${Math.floor(options.maxAgeSeconds)}` : undefined;
  const memo = new Map<string, FileHeaders>();
  const buffers = new ResponseBuffers(4096, STREAM_ABOVE);

  const headersFor = (path: string, st: FileStats): FileHeaders => {
    const known = memo.get(path);
    if (known !== undefined && known.ino === st.ino && known.size === st.size && known.mtimeMs === st.mtimeMs) return known;
    const etag = etagOf(st);
    const mtimeSeconds = Math.floor(st.mtimeMs / 1000);
    const lastModified = new Date(mtimeSeconds * 1000).toUTCString();
    const contentType = contentTypeOf(path);
    const validators = ['ETag', etag, 'Last-Modified', lastModified];
    if (cacheControl !== undefined) validators.push('Cache-Control', cacheControl);
    const made: FileHeaders = {
      ino: st.ino,
      size: st.size,
      mtimeMs: st.mtimeMs,
      etag,
      lastModified,
      mtimeSeconds,
      contentType,
      full: ['Content-Type', contentType, 'Content-Length', String(st.size), 'Accept-Ranges', 'bytes', ...validators],
      notModified: validators,
    };
    if (memo.size >= MAX_MEMO) memo.clear();
    memo.set(path, made);
    return made;
  };

  const fail = (req: IncomingMessage, res: ServerResponse, err: unknown): void => {
    const status = statusOfError(err);
    if (status === 500) options.onError?.(err, req);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendStatus(res, status);
  };

  return async function serveFile(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method;
    if (method !== 'GET' && method !== 'HEAD') {
      sendStatus(res, 405, { Allow: 'GET, HEAD' });
      return;
    }
    const target = parseRequestPath(req.url, dotfiles);
    if (typeof target === 'number') {
      sendStatus(res, target);
      return;
    }
    let path = target.path;
    let st: FileStats;
    try {
      st = await cfs.stat(path);
      if (st.isDirectory()) {
        if (!target.trailingSlash && path !== '/') {
          res.writeHead(301, { Location: `${encodePath(path)}/${target.query}`, 'Content-Length': 0 });
          res.end();
          return;
        }
        const index = path === '/' ? '/index.html' : `${path}/index.html`;
        try {
          st = await cfs.stat(index);
        } catch (err) {
          if (listing && statusOfError(err) === 404) {
            await sendListing(cfs, path, dotfiles, method === 'HEAD', res);
            return;
          }
          throw err;
        }
        path = index;
      } else if (target.trailingSlash) {
        sendStatus(res, 404); // `/file.txt/`: a file is not a directory
        return;
      }
      if (!st.isFile()) {
        // FIFOs, sockets, devices: refused without being opened (opening a FIFO waits for a writer).
        sendStatus(res, st.isDirectory() ? 404 : 403);
        return;
      }
    } catch (err) {
      fail(req, res, err);
      return;
    }

    const h = headersFor(path, st);
    const headers = req.headers;
    if (headers['if-none-match'] !== undefined || headers['if-modified-since'] !== undefined) {
      if (notModified(headers['if-none-match'], headers['if-modified-since'], h)) {
        res.writeHead(304, h.notModified);
        res.end();
        return;
      }
    }

    try {
      const rangeHeader = headers.range;
      if (rangeHeader !== undefined && rangeApplies(headers['if-range'] as string | undefined, h)) {
        const range = parseRange(rangeHeader, h.size);
        if (range === 'unsatisfiable') {
          sendStatus(res, 416, { 'Content-Range': `bytes */${h.size}` });
          return;
        }
        if (range !== undefined) {
          await sendRange(cfs, path, h, range, method === 'HEAD', res);
          return;
        }
      }
      if (method === 'HEAD') {
        res.writeHead(200, h.full);
        res.end();
        return;
      }
      if (h.size > STREAM_ABOVE) {
        await streamWhole(cfs, path, h, res);
        return;
      }
      if (h.size >= buffers.minSize) {
        await sendPooled(cfs, path, h, res, buffers, () => memo.delete(path));
        return;
      }
      const body = await cfs.readFile(path);
      if (body.length !== h.size) {
        // The file changed between the stat and the read: the memoized headers describe another version.
        memo.delete(path);
        res.writeHead(200, ['Content-Type', h.contentType, 'Content-Length', String(body.length)]);
        res.end(body);
        return;
      }
      res.writeHead(200, h.full);
      res.end(body);
    } catch (err) {
      fail(req, res, err);
    }
  };
}

/**
 * True when the client's copy is current. If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2);
 * ETags compare weakly here, so `W/"x"` matches `"x"`.
 */
function notModified(ifNoneMatch: string | undefined, ifModifiedSince: string | undefined, h: FileHeaders): boolean {
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch.trim() === '*') return true;
    for (const part of ifNoneMatch.split(',')) {
      const tag = part.trim();
      if (tag === h.etag || (tag.startsWith('W/') && tag.slice(2) === h.etag)) return true;
    }
    return false;
  }
  if (ifModifiedSince !== undefined) {
    const since = Date.parse(ifModifiedSince);
    return Number.isFinite(since) && h.mtimeSeconds * 1000 <= since;
  }
  return false;
}

/** If-Range: the range applies only when the client's validator still names this version (strongly). */
function rangeApplies(ifRange: string | undefined, h: FileHeaders): boolean {
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith('W/')) return value === h.etag;
  const date = Date.parse(value);
  return Number.isFinite(date) && date === h.mtimeSeconds * 1000;
}

/** An inclusive byte range. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Reads a `Range` header for a representation of `size` bytes: one range, `'unsatisfiable'` (416), or
 * `undefined` when the header is to be ignored and the whole file sent (malformed, another unit, or
 * several ranges: RFC 9110 lets a server ignore Range, and multipart answers are rarely worth it).
 */
export function parseRange(header: string, size: number): ByteRange | 'unsatisfiable' | undefined {
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return undefined;
  const [, first, last] = match as unknown as [string, string, string];
  if (first === '' && last === '') return undefined;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return undefined; // invalid: ignore, as RFC 9110 14.1.1 says
  if (start >= size) return 'unsatisfiable';
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  return { start, end };
}

async function sendRange(cfs: CacheFS, path: string, h: FileHeaders, range: ByteRange, headOnly: boolean, res: ServerResponse): Promise<void> {
  const length = range.end - range.start + 1;
  const head = [
    'Content-Type', h.contentType,
    'Content-Length', String(length),
    'Content-Range', `bytes ${range.start}-${range.end}/${h.size}`,
    'Accept-Ranges', 'bytes',
    ...h.notModified,
  ];
  if (headOnly) {
    res.writeHead(206, head);
    res.end();
    return;
  }
  if (length > STREAM_ABOVE) {
    res.writeHead(206, head);
    await streamSpan(cfs, path, range.start, length, res);
    return;
  }
  // A handle reads just the span: from the cache on a hit, and for a file too big to cache, only
  // those bytes from the backend.
  const handle = await cfs.open(path, 'r');
  try {
    const body = Buffer.allocUnsafe(length);
    const { bytesRead } = await handle.read(body, 0, length, range.start);
    if (bytesRead !== length) throw Object.assign(new Error(`${path} changed while it was read`), { code: 'ERR_CACHEFS_CHANGED' });
    res.writeHead(206, head);
    res.end(body);
  } finally {
    await handle.close();
  }
}

/**
 * Sends a whole file of `h.size` bytes read through a handle into a pooled buffer, given back when
 * the response has finished (see response-buffers.ts); a connection closed before that keeps the
 * buffer out of the pool, since a cancelled write may still refer to it.
 */
async function sendPooled(cfs: CacheFS, path: string, h: FileHeaders, res: ServerResponse, buffers: ResponseBuffers, stale: () => void): Promise<void> {
  const buffer = buffers.take(h.size);
  let bytesRead: number;
  const handle = await cfs.open(path, 'r');
  try {
    // One byte more than expected: a file that grew since the stat shows up as a longer read.
    ({ bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, h.size + 1), 0));
  } finally {
    await handle.close();
  }
  if (bytesRead !== h.size) {
    stale();
    buffers.give(buffer);
    // The file changed between the stat and the read: answer with what the next request will see.
    const body = await cfs.readFile(path);
    res.writeHead(200, ['Content-Type', h.contentType, 'Content-Length', String(body.length)]);
    res.end(body);
    return;
  }
  res.writeHead(200, h.full);
  res.once('finish', () => buffers.give(buffer));
  res.end(buffer.length === h.size ? buffer : buffer.subarray(0, h.size));
}

async function streamWhole(cfs: CacheFS, path: string, h: FileHeaders, res: ServerResponse): Promise<void> {
  res.writeHead(200, h.full);
  await streamSpan(cfs, path, 0, h.size, res);
}

/** Writes `length` bytes from `position` in chunks, waiting for the socket to drain between them. */
async function streamSpan(cfs: CacheFS, path: string, position: number, length: number, res: ServerResponse): Promise<void> {
  const handle = await cfs.open(path, 'r');
  try {
    let sent = 0;
    while (sent < length) {
      if (res.destroyed) return;
      const chunk = Buffer.allocUnsafe(Math.min(STREAM_CHUNK, length - sent));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, position + sent);
      if (bytesRead === 0) break;
      sent += bytesRead;
      if (!res.write(bytesRead === chunk.length ? chunk : chunk.subarray(0, bytesRead))) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.on('drain', done);
          res.on('close', done);
        });
      }
    }
    // A file that shrank under us cannot honour the Content-Length already sent: cut the connection
    // so the client sees a truncated body instead of a hang.
    if (sent < length) res.destroy();
    else res.end();
  } finally {
    await handle.close();
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function sendListing(cfs: CacheFS, dir: string, dotfiles: boolean, headOnly: boolean, res: ServerResponse): Promise<void> {
  const entries = await cfs.readdir(dir, { withFileTypes: true });
  const items = entries
    .filter((e) => dotfiles || !e.name.startsWith('.'))
    .map((e) => {
      const name = e.isDirectory() ? `${e.name}/` : e.name;
      return `<li><a href="${escapeHtml(encodeURIComponent(e.name))}${e.isDirectory() ? '/' : ''}">${escapeHtml(name)}</a></li>`;
    });
  const title = escapeHtml(`Index of ${dir === '/' ? '/' : `${dir}/`}`);
  const up = dir === '/' ? '' : '<li><a href="../">../</a></li>';
  const body = `<!doctype html>\n<meta charset="utf-8">\n<title>${title}</title>\n<h1>${title}</h1>\n<ul>\n${up}${items.join('\n')}\n</ul>\n`;
  res.writeHead(200, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-cache',
  });
  res.end(headOnly ? undefined : body);
}
