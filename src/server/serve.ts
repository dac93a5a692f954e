/**
 * The HTTP server of `cachefs serve`, as a reusable function: static files from a {@link CacheFS}, the
 * admin endpoints, optional PUT/DELETE, and a graceful `close()` (stop accepting, let running requests
 * finish, cancel warms). Closing the cache itself (which flushes dirty data) is the caller's move, so a
 * program can serve one cache from several servers or keep using it afterwards.
 *
 * ```ts
 * const cfs = new CacheFS(nodeBackend('./public'), { metadataCache: true });
 * const server = createCacheServer(cfs);
 * const { port } = await server.listen(8080, '127.0.0.1');
 * // … later
 * await server.close();
 * await cfs.close();
 * ```
 */
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CacheFS } from '../fs/cachefs.js';
import { createAccessCheck, type LocalClientPredicate } from './access.js';
import { createAdminHandler, type WarmOutcome } from './admin.js';
import { createFileHandler, sendStatus, type FileServingOptions } from './http-files.js';
import { createWriteHandler } from './http-write.js';

/** Options of {@link createCacheServer}. */
export interface CacheServerOptions extends FileServingOptions {
  /** Serve the admin endpoints below `/_cachefs/`. Default true. */
  admin?: boolean;
  /** Serve `/_cachefs/metrics` and `/_cachefs/stats` (when `admin` is on). Default true. */
  metrics?: boolean;
  /** When set, admin requests (and writes) need `Authorization: Bearer <token>`, from any address. */
  adminToken?: string;
  /** Which requests count as local when there is no token. Default: the peer is a loopback address. */
  isLocalClient?: LocalClientPredicate;
  /** Accept PUT and DELETE (under the admin access rules). Default false. */
  writable?: boolean;
  /** Largest PUT body. Default 64 MiB. */
  maxUploadBytes?: number;
  /** How long `close()` waits for running requests before cutting connections. Default 10 s. */
  shutdownTimeoutMs?: number;
}

/**
 * A running (or ready to run) cache server. Events: `'warm'` ({@link WarmOutcome}) when a warm
 * request ends; `'error'` with errors that became 500 answers.
 */
export interface CacheServer extends EventEmitter {
  /** The underlying `node:http` server. */
  readonly server: Server;
  /** Starts listening (port 0 picks a free port); resolves with the bound address. */
  listen(port?: number, host?: string): Promise<AddressInfo>;
  /**
   * Graceful stop: no new connections, running warms cancelled, idle keep-alive connections closed,
   * running requests allowed to finish (up to `shutdownTimeoutMs`, then their connections are cut).
   * Does not close the cache. Idempotent.
   */
  close(): Promise<void>;
}

const ADMIN_PREFIX = '/_cachefs/';

/** Builds the HTTP server over `cfs`; see {@link CacheServerOptions}. */
export function createCacheServer(cfs: CacheFS, options: CacheServerOptions = {}): CacheServer {
  const events = new EventEmitter();
  const reportError = (err: unknown): void => {
    if (events.listenerCount('error') > 0) events.emit('error', err);
  };
  const fileOptions: FileServingOptions = { ...options, onError: options.onError ?? ((err) => reportError(err)) };
  const serveFile = createFileHandler(cfs, fileOptions);
  const checkAccess = createAccessCheck(options.adminToken, options.isLocalClient);
  const adminOn = options.admin !== false;
  const admin = adminOn
    ? createAdminHandler(cfs, {
        checkAccess,
        metrics: options.metrics !== false,
        onWarmEnd: (outcome: WarmOutcome) => events.emit('warm', outcome),
      })
    : undefined;
  const write = options.writable
    ? createWriteHandler(cfs, { maxBodyBytes: options.maxUploadBytes ?? 64 * 1024 * 1024, dotfiles: options.dotfiles === true, onError: fileOptions.onError! })
    : undefined;

  let closing = false;
  let closed: Promise<void> | undefined;

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (closing) res.shouldKeepAlive = false;
    const url = req.url;
    if (admin !== undefined && url !== undefined && url.startsWith(ADMIN_PREFIX)) {
      admin.handle(req, res).catch(reportError);
      return;
    }
    const method = req.method;
    if (write !== undefined && (method === 'PUT' || method === 'DELETE')) {
      const verdict = checkAccess(req);
      if (!verdict.ok) {
        req.resume();
        sendStatus(res, verdict.status, verdict.status === 401 ? { 'WWW-Authenticate': 'Bearer realm="cachefs"' } : undefined);
        return;
      }
      write(req, res).catch(reportError);
      return;
    }
    serveFile(req, res).catch(reportError);
  };

  const server = createServer({ keepAliveTimeout: 5000 }, onRequest);

  const self = Object.assign(events, {
    server,
    listen(port = 0, host?: string): Promise<AddressInfo> {
      return new Promise<AddressInfo>((resolve, reject) => {
        const onError = (err: Error): void => reject(err);
        server.once('error', onError);
        server.listen(port, host, () => {
          server.off('error', onError);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    close(): Promise<void> {
      if (closed !== undefined) return closed;
      closing = true;
      admin?.abortAll('server shutting down');
      closed = new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), options.shutdownTimeoutMs ?? 10_000);
        // A keep-alive connection whose response began before the shutdown turns idle when it ends;
        // sweep such connections now and then rather than wait for their keep-alive timeout. (Requests
        // arriving from now on are answered with `Connection: close`.)
        const sweep = setInterval(() => server.closeIdleConnections(), 50);
        timer.unref();
        sweep.unref();
        server.close(() => {
          clearTimeout(timer);
          clearInterval(sweep);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closed;
    },
  });
  return self as CacheServer;
}
