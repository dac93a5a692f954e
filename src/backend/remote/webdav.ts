import * as http from 'node:http';
import * as https from 'node:https';
import type { FileStat, ResponseDataDetailed, WebDAVClient } from 'webdav';
import type { Backend, BackendDirent, BackendStats } from '../backend.js';
import { FsError } from '../../errors.js';
import { isNetworkCode, NetworkFailure, RemoteCalls, type Attempt } from './calls.js';
import { asBuffer, statsOfResponse, toStats } from './webdav-stats.js';

/** Options of {@link webdavBackend}. The password never appears in an error, an event or a log line. */
export interface WebdavBackendOptions {
  username?: string;
  password?: string;
  /** Extra request headers (a bearer token, for instance). */
  headers?: Record<string, string>;
  /** Milliseconds one whole call may take, all attempts included. Default 10000. */
  timeout?: number;
  /** Keep-alive connections kept per server. Default 16. */
  connections?: number;
  /**
   * Milliseconds a PROPFIND answer about a path is reused by the next calls, as NFS's attribute cache
   * does (there for 3 s or more): one cache call makes several backend calls on one path. Any change
   * made through this backend drops every such answer. Default 100; 0 turns it off.
   */
  attributeCacheMs?: number;
}

/**
 * A {@link Backend} over a WebDAV server (RFC 4918; Apache mod_dav, nginx-dav-ext, rclone serve webdav,
 * Nextcloud…) on the `webdav` client. The URL's path is the root: `/a` is `<url>/a`.
 *
 * PROPFIND answers `stat` and `readdir`, a ranged GET the positional `read`, PUT/MKCOL/MOVE/COPY/DELETE
 * the changes (COPY is a server-side `copyFile`). The identity for revalidation is the ETag (hashed into
 * `ino`) with the size and the last-modified second.
 *
 * What WebDAV cannot do fails as Node does on a file system without it (API.md 1.3 §5): `chmod`,
 * `chown`, `utimes`, `symlink` and `link` with `EPERM`, `readlink` with `EINVAL`. There are no links, so
 * nothing can lead out of the root but `..`, which is refused with `EACCES`. Positional writes and
 * `truncate` rewrite the whole file (WebDAV has no partial PUT everywhere).
 *
 * Errors carry Node's codes with the cache's path; network failures are `ECONNREFUSED`, `ETIMEDOUT` or
 * `ECONNRESET` naming the server (`webdav://host:port/path`, no credentials).
 */
export function webdavBackend(url: string, options: WebdavBackendOptions = {}): Backend {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new FsError('EINVAL', 'webdav', undefined, undefined, `a WebDAV URL is http:// or https://, not ${parsed.protocol}`);
  }
  const username = options.username ?? (parsed.username ? decodeURIComponent(parsed.username) : undefined);
  const password = options.password ?? (parsed.password ? decodeURIComponent(parsed.password) : undefined);
  parsed.username = '';
  parsed.password = '';
  const base = parsed.toString().replace(/\/+$/, '');
  const where = `${parsed.protocol === 'https:' ? 'webdavs' : 'webdav'}://${parsed.host}${parsed.pathname.replace(/\/+$/, '')}`;
  const timeout = options.timeout ?? 10_000;
  const calls = new RemoteCalls(where, timeout);
  const agentOptions = { keepAlive: true, maxSockets: options.connections ?? 16 };
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent(agentOptions);
  // Loaded by the first call (every use of `client` is in one), not with this module: the package is a
  // third of a CLI process's start-up CPU, which every serve worker over a local directory paid.
  let client!: WebDAVClient;
  let loading: Promise<WebDAVClient> | undefined;
  const connect = (): Promise<WebDAVClient> =>
    (loading ??= import('webdav').then(({ createClient }) => (client = createClient(base, { username, password, headers: options.headers, httpAgent, httpsAgent }))));

  /** The path below the root with `.`/`..` applied; EACCES above `/`. */
  const normal = (syscall: string, path: string, dest?: string): string => {
    const out: string[] = [];
    for (const part of path.split('/')) {
      if (part === '' || part === '.') continue;
      if (part === '..') {
        if (out.length === 0) throw new FsError('EACCES', syscall, dest === undefined ? path : path, dest);
        out.pop();
      } else out.push(part);
    }
    return '/' + out.join('/');
  };

  const run = <T>(syscall: string, path: string, dest: string | undefined, idempotent: boolean,
    body: (signal: AbortSignal, sent: () => void, a: Attempt) => Promise<T>, changes = false): Promise<T> =>
    calls.run(syscall, path, dest, idempotent, async (a, sent) => {
      if (changes) changed();
      try {
        if (client === undefined) await connect();
        return await body(a.signal, sent, a);
      } catch (err) {
        throw classify(err, syscall, path, dest);
      } finally {
        if (changes) changed();
      }
    });

  /** {@link run} for a call that changes the server: the attribute answers are dropped around it. */
  const runChange = <T>(syscall: string, path: string, dest: string | undefined, idempotent: boolean,
    body: (signal: AbortSignal, sent: () => void, a: Attempt) => Promise<T>): Promise<T> =>
    run(syscall, path, dest, idempotent, body, true);

  /** A transport failure becomes a NetworkFailure (retried); an HTTP status an FsError. */
  const classify = (err: unknown, syscall: string, path: string, dest?: string): unknown => {
    if (err instanceof FsError || err instanceof NetworkFailure) return err;
    const status = (err as { status?: unknown } | null)?.status;
    if (typeof status === 'number') return httpError(status, syscall, path, dest);
    const e = err as { code?: unknown; name?: unknown; type?: unknown; errno?: unknown; message?: unknown } | null;
    if (e?.name === 'AbortError') return new NetworkFailure('ETIMEDOUT', 'the request was aborted at the deadline');
    if (isNetworkCode(e?.code)) return new NetworkFailure(e!.code as string, String(e?.message ?? ''));
    if (e?.type === 'system' || isNetworkCode(e?.errno)) return new NetworkFailure(isNetworkCode(e?.errno) ? String(e!.errno) : 'ECONNRESET', String(e?.message ?? ''));
    return err;
  };

  const httpError = (status: number, syscall: string, path: string, dest?: string): FsError => {
    if (status === 401) return new FsError('EACCES', syscall, path, dest, `permission denied by ${where}: authentication failed`);
    if (status === 403) return new FsError('EACCES', syscall, path, dest);
    if (status === 404 || status === 409) return new FsError('ENOENT', syscall, path, dest);
    if (status === 405) return new FsError('EEXIST', syscall, path, dest);
    if (status === 412) return new FsError('EEXIST', syscall, path, dest);
    if (status === 423) return new FsError('EBUSY', syscall, path, dest);
    if (status === 507) return new FsError('ENOSPC', syscall, path, dest);
    return new FsError('EIO', syscall, path, dest, `the server answered ${status}`);
  };

  const attributeTtl = options.attributeCacheMs ?? 100;
  const attributes = new Map<string, { st: FileStat | undefined; at: number }>();
  /** Bumped by every change: an answer asked before a change is not kept after it. */
  let generation = 0;
  const changed = (): void => {
    generation++;
    attributes.clear();
  };

  /** PROPFIND depth 0 (reused for `attributeCacheMs`); undefined when nothing is there. */
  const propfind = async (path: string, signal: AbortSignal): Promise<FileStat | undefined> => {
    const asked = Date.now();
    const known = attributes.get(path);
    if (known && asked - known.at < attributeTtl) return known.st;
    const seen = generation;
    const st = await propfindNow(path, signal);
    if (attributeTtl > 0 && seen === generation) {
      if (attributes.size > 10_000) attributes.clear();
      attributes.set(path, { st, at: asked });
    }
    return st;
  };

  const propfindNow = async (path: string, signal: AbortSignal): Promise<FileStat | undefined> => {
    try {
      return (await client.stat(path, { signal })) as FileStat;
    } catch (err) {
      // Apache answers 400 for a path through a file, others 404 or 409.
      const status = (err as { status?: unknown }).status;
      if (status === 404 || status === 409 || status === 400) return undefined;
      throw err;
    }
  };

  /**
   * What rename(2)/open(2) would say about a missing `path`: ENOTDIR when a component above it is a
   * file, else ENOENT. Only on failures, so the walk costs nothing on the common path.
   */
  const missing = async (path: string, syscall: string, signal: AbortSignal, shown = path, dest?: string): Promise<FsError> =>
    (await troubleAbove(path, syscall, signal, shown, dest)) ?? new FsError('ENOENT', syscall, shown, dest);

  /** What stops a walk to the directory holding `path` (ENOENT, ENOTDIR), or undefined when nothing does. */
  const troubleAbove = async (path: string, syscall: string, signal: AbortSignal, shown = path, dest?: string): Promise<FsError | undefined> => {
    const parts = path.split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) {
      const st = await propfind('/' + parts.slice(0, i).join('/'), signal);
      if (!st) return new FsError('ENOENT', syscall, shown, dest);
      if (st.type !== 'directory') return new FsError('ENOTDIR', syscall, shown, dest);
    }
    return undefined;
  };

  const existing = async (path: string, syscall: string, signal: AbortSignal, shown = path): Promise<FileStat> => {
    const st = await propfind(path, signal);
    if (!st) throw await missing(path, syscall, signal, shown);
    return st;
  };

  /**
   * Why a request on `path` failed, as Node would say it: servers differ (Apache answers 400 for a path
   * through a file, 405 for MKCOL on a file, 500 for a MOVE into a missing directory), so the answer is
   * read from the tree, and only on failure. `exists` is the code when something is at `path`.
   */
  const whyNot = async (err: unknown, path: string, syscall: string, signal: AbortSignal, shown: string,
    exists: string = 'EISDIR', dest?: string): Promise<unknown> => {
    const status = (err as { status?: unknown } | null)?.status;
    if (typeof status !== 'number' || status === 401 || status === 423 || status === 507) return err;
    const st = await propfind(path, signal);
    if (st?.type === 'directory' || (st && exists !== 'EISDIR')) return new FsError(exists, syscall, shown, dest);
    if (!st) return missing(path, syscall, signal, shown, dest);
    return err;
  };

  const getAll = async (path: string, signal: AbortSignal): Promise<Uint8Array> => {
    const data = (await client.getFileContents(path, { format: 'binary', signal })) as Buffer | ArrayBuffer;
    return data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  };

  /**
   * A whole-file GET, with the stats its own response gives (ETag, Last-Modified and the bytes' length):
   * the identity of exactly these bytes, for no request more. Absent when the server sent neither.
   */
  const getWhole = (path: string): Promise<{ data: Uint8Array; stats?: BackendStats }> =>
    run('open', path, undefined, true, async (signal) => {
      const p = normal('open', path);
      if (p === '/') throw new FsError('EISDIR', 'read', path);
      let response: ResponseDataDetailed<Buffer | ArrayBuffer>;
      try {
        response = (await client.getFileContents(p, { format: 'binary', details: true, signal })) as ResponseDataDetailed<Buffer | ArrayBuffer>;
      } catch (err) {
        const why = await whyNot(err, p, 'read', signal, path);
        throw why instanceof FsError && why.code === 'EISDIR' ? why : classify(why, 'open', path);
      }
      const body = response.data;
      const data = body instanceof ArrayBuffer ? new Uint8Array(body) : new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
      return { data, stats: statsOfResponse(response.headers as Record<string, string | undefined>, data.byteLength) };
    });

  const backend: Backend = {
    name: 'webdav',
    defaultRevalidate: 5000,

    stat(path) {
      return run('stat', path, undefined, true, async (signal) => toStats(await existing(normal('stat', path), 'stat', signal, path)));
    },

    lstat(path) {
      return run('lstat', path, undefined, true, async (signal) => toStats(await existing(normal('lstat', path), 'lstat', signal, path)));
    },

    async readFile(path) {
      return (await getWhole(path)).data;
    },

    writeFile(path, data, options) {
      const exclusive = options?.flag === 'wx';
      return runChange('open', path, undefined, !exclusive, async (signal, sent) => {
        const p = normal('open', path);
        if (p === '/') throw new FsError('EISDIR', 'open', path);
        sent();
        try {
          await client.putFileContents(p, asBuffer(data), {
            overwrite: true, signal, contentLength: data.byteLength,
            // RFC 7232: If-None-Match: * makes the PUT fail (412) when anything is there.
            ...(exclusive ? { headers: { 'If-None-Match': '*' } } : {}),
          });
        } catch (err) {
          const status = (err as { status?: unknown }).status;
          if (status === 412) throw new FsError('EEXIST', 'open', path);
          throw await whyNot(err, p, 'open', signal, path);
        }
      });
    },

    readdir(path) {
      return run('scandir', path, undefined, true, async (signal) => {
        const p = normal('scandir', path);
        const [self, children] = await Promise.all([
          propfind(p, signal),
          (client.getDirectoryContents(p, { signal } as never) as unknown as Promise<FileStat[]>).catch((err: unknown) => err as Error),
        ]);
        if (!self) throw await missing(p, 'scandir', signal, path);
        if (self.type !== 'directory') throw new FsError('ENOTDIR', 'scandir', path);
        if (children instanceof Error) throw children;
        return children.map((c): BackendDirent => ({ name: c.basename, type: c.type === 'directory' ? 'directory' : 'file' }));
      });
    },

    mkdir(path, options) {
      if (options?.recursive) {
        const make = async (p: string): Promise<void> => {
          const st = await run('mkdir', path, undefined, true, async (signal) => {
            try {
              return await propfind(p, signal) ?? null;
            } catch (err) {
              throw classify(err, 'mkdir', path);
            }
          });
          if (st) {
            if (st.type !== 'directory') throw new FsError(p === normal('mkdir', path) ? 'EEXIST' : 'ENOTDIR', 'mkdir', path);
            return;
          }
          await make(p.slice(0, p.lastIndexOf('/')) || '/');
          await backend.mkdir(p).catch((err: { code?: string }) => {
            if (err.code !== 'EEXIST') throw new FsError(err.code ?? 'EIO', 'mkdir', path);
          });
        };
        return make(normal('mkdir', path));
      }
      return runChange('mkdir', path, undefined, false, async (signal, sent) => {
        const p = normal('mkdir', path);
        if (p === '/') throw new FsError('EEXIST', 'mkdir', path);
        sent();
        try {
          await client.createDirectory(p, { signal });
        } catch (err) {
          throw await whyNot(err, p, 'mkdir', signal, path, 'EEXIST');
        }
      });
    },

    rmdir(path) {
      return runChange('rmdir', path, undefined, false, async (signal, sent) => {
        const p = normal('rmdir', path);
        if (p === '/') throw new FsError('EBUSY', 'rmdir', path);
        const st = await existing(p, 'rmdir', signal, path);
        if (st.type !== 'directory') throw new FsError('ENOTDIR', 'rmdir', path);
        // DELETE of a collection removes everything in it; rmdir(2) must refuse a non-empty one.
        const children = (await client.getDirectoryContents(p, { signal } as never)) as unknown as FileStat[];
        if (children.length > 0) throw new FsError('ENOTEMPTY', 'rmdir', path);
        sent();
        await client.deleteFile(p, { signal });
      });
    },

    unlink(path) {
      return runChange('unlink', path, undefined, false, async (signal, sent) => {
        const p = normal('unlink', path);
        if (p === '/') throw new FsError('EISDIR', 'unlink', path);
        const st = await existing(p, 'unlink', signal, path);
        if (st.type === 'directory') throw new FsError('EISDIR', 'unlink', path);
        sent();
        await client.deleteFile(p, { signal });
      });
    },

    rename(from, to) {
      return runChange('rename', from, to, false, async (signal, sent) => {
        const src = normal('rename', from, to);
        const dst = normal('rename', to, to);
        if (src === '/' || dst === '/') throw new FsError('EBUSY', 'rename', from, to);
        const parent = dst.slice(0, dst.lastIndexOf('/')) || '/';
        const [a, b, up] = await Promise.all([propfind(src, signal), propfind(dst, signal), propfind(parent, signal)]);
        // As the kernel: the source's parents, then the target's, are walked before the source's own
        // name is looked up (a missing source renamed below a file is ENOTDIR).
        if (!a) {
          const above = await troubleAbove(src, 'rename', signal, from, to);
          if (above) throw above;
        }
        if (!up) throw await missing(dst, 'rename', signal, from, to);
        if (up.type !== 'directory') throw new FsError('ENOTDIR', 'rename', from, to);
        if (!a) throw new FsError('ENOENT', 'rename', from, to);
        if (a.type === 'directory' && dst.startsWith(src + '/')) throw new FsError('EINVAL', 'rename', from, to);
        // Linux refuses a target that is an ancestor of the source with ENOTEMPTY, before the types.
        if (src.startsWith(dst + '/')) throw new FsError('ENOTEMPTY', 'rename', from, to);
        if (src === dst) return;
        if (b) {
          if (b.type === 'directory' && a.type !== 'directory') throw new FsError('EISDIR', 'rename', from, to);
          if (b.type !== 'directory' && a.type === 'directory') throw new FsError('ENOTDIR', 'rename', from, to);
          if (b.type === 'directory') {
            const children = (await client.getDirectoryContents(dst, { signal } as never)) as unknown as FileStat[];
            if (children.length > 0) throw new FsError('ENOTEMPTY', 'rename', from, to);
          }
        }
        sent();
        try {
          await client.moveFile(src, dst, { overwrite: true, signal });
        } catch (err) {
          throw await whyNot(err, dst, 'rename', signal, from, 'EIO', to);
        }
      });
    },

    truncate(path, length) {
      return runChange('open', path, undefined, true, async (signal) => {
        const p = normal('open', path);
        const st = await existing(p, 'open', signal, path);
        if (st.type === 'directory') throw new FsError('EISDIR', 'open', path);
        const old = length === 0 ? new Uint8Array(0) : await getAll(p, signal);
        const next = new Uint8Array(length);
        next.set(old.subarray(0, Math.min(length, old.byteLength)));
        await client.putFileContents(p, asBuffer(next), { overwrite: true, signal, contentLength: length });
      });
    },

    read(path, into, offset, length, position) {
      return run('read', path, undefined, true, async (signal) => {
        const p = normal('read', path);
        if (length === 0) return 0;
        let response: ResponseDataDetailed<Buffer | ArrayBuffer>;
        try {
          response = (await client.getFileContents(p, {
            format: 'binary', details: true, signal,
            headers: { Range: `bytes=${position}-${position + length - 1}` },
          })) as ResponseDataDetailed<Buffer | ArrayBuffer>;
        } catch (err) {
          if ((err as { status?: unknown }).status === 416) return 0; // at or past the end
          throw await whyNot(err, p, 'read', signal, path);
        }
        const body = response.data instanceof ArrayBuffer ? new Uint8Array(response.data) : new Uint8Array(response.data.buffer, response.data.byteOffset, response.data.byteLength);
        let start = 0;
        if (response.status === 206) {
          // Only the range we asked for may be copied: anything else would be wrong bytes.
          const range = /^bytes (\d+)-(\d+)\//.exec(String((response.headers as Record<string, string>)['content-range'] ?? ''));
          if (!range || Number(range[1]) !== position || body.byteLength !== Number(range[2]) - position + 1) {
            throw new FsError('EIO', 'read', path, undefined, 'the server answered another range than asked');
          }
        } else {
          start = position; // a server that ignores Range sends the whole file
        }
        const n = Math.max(0, Math.min(length, body.byteLength - start));
        into.set(body.subarray(start, start + n), offset);
        return n;
      });
    },

    write(path, data, position) {
      // No partial PUT that every server honours: the file is read, patched and put back whole.
      return runChange('write', path, undefined, true, async (signal) => {
        const p = normal('write', path);
        const st = await existing(p, 'write', signal, path);
        if (st.type === 'directory') throw new FsError('EISDIR', 'write', path);
        const old = await getAll(p, signal);
        const next = new Uint8Array(Math.max(old.byteLength, position + data.byteLength));
        next.set(old);
        next.set(data, position);
        await client.putFileContents(p, asBuffer(next), { overwrite: true, signal, contentLength: next.byteLength });
      });
    },

    copyFile(src, dest, mode = 0) {
      const exclusive = (mode & 1) !== 0;
      return runChange('copyfile', src, dest, !exclusive, async (signal, sent) => {
        const from = normal('copyfile', src, dest);
        const to = normal('copyfile', dest, dest);
        const [a, b] = await Promise.all([propfind(from, signal), propfind(to, signal)]);
        if (!a) throw await missing(from, 'copyfile', signal, src, dest);
        if (a.type === 'directory') throw new FsError('EISDIR', 'copyfile', src, dest);
        if (b?.type === 'directory') throw new FsError('EISDIR', 'copyfile', src, dest);
        if (b && exclusive) throw new FsError('EEXIST', 'copyfile', src, dest);
        if (from === to) return;
        sent();
        try {
          await client.copyFile(from, to, { overwrite: !exclusive, signal });
        } catch (err) {
          const status = (err as { status?: unknown }).status;
          if (status === 412) throw new FsError('EEXIST', 'copyfile', src, dest);
          throw await whyNot(err, to, 'copyfile', signal, src, 'EIO', dest);
        }
      });
    },

    realpath(path) {
      return run('realpath', path, undefined, true, async (signal) => {
        const p = normal('realpath', path);
        await existing(p, 'realpath', signal, path);
        return p;
      });
    },

    chmod: (path) => unsupported('chmod', path, 'EPERM'),
    chown: (path) => unsupported('chown', path, 'EPERM'),
    utimes: (path) => unsupported('utime', path, 'EPERM'),
    lutimes: (path) => unsupported('lutime', path, 'EPERM'),
    readlink: (path) => unsupported('readlink', path, 'EINVAL'),
    symlink(target, path) {
      return Promise.reject(new FsError('EPERM', 'symlink', target, path, 'operation not permitted: WebDAV has no symbolic links'));
    },
    link(existingPath, newPath) {
      return Promise.reject(new FsError('EPERM', 'link', existingPath, newPath, 'operation not permitted: WebDAV has no hard links'));
    },

    async close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };

  /** What WebDAV cannot do: ENOENT when nothing is there (as Node checks the path first), else `code`. */
  function unsupported(syscall: string, path: string, code: string): Promise<never> {
    return run(syscall, path, undefined, true, async (signal) => {
      await existing(normal(syscall, path), syscall, signal, path);
      throw new FsError(code, syscall, path, undefined, code === 'EPERM' ? 'operation not permitted: WebDAV keeps no modes, owners, times or links' : undefined);
    });
  }

  // Non-enumerable (see Backend.readFileWithStats): a spread wrapper replacing readFile is not bypassed.
  Object.defineProperty(backend, 'readFileWithStats', { value: getWhole, enumerable: false });
  return backend;
}
