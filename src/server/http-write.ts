/**
 * PUT and DELETE of files through the cache, for `cachefs serve --writable`: a PUT writes the request
 * body with `writeFile` (in write-back mode the data is dirty in the cache until a flush, which is
 * what makes the write modes of `serve` meaningful), a DELETE unlinks. Both follow the admin access
 * rules and the same path rules as reads (no `..`, NUL, backslash or dotfile).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CacheFS } from '../fs/cachefs.js';
import { parseRequestPath } from './request-path.js';
import { sendStatus, statusOfError } from './http-files.js';

export interface WriteOptions {
  /** Largest body a PUT may carry. */
  maxBodyBytes: number;
  dotfiles?: boolean;
  onError?: (err: unknown, req: IncomingMessage) => void;
}

function readLimited(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

/** Answers PUT (201 created, 204 replaced) and DELETE (204) requests. */
export function createWriteHandler(cfs: CacheFS, options: WriteOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async function write(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = parseRequestPath(req.url, options.dotfiles === true);
    if (typeof target === 'number' || target.trailingSlash || target.path === '/') {
      req.resume();
      sendStatus(res, typeof target === 'number' ? target : 405, typeof target === 'number' ? undefined : { Allow: 'GET, HEAD' });
      return;
    }
    const path = target.path;
    try {
      if (req.method === 'DELETE') {
        req.resume();
        await cfs.unlink(path);
        res.writeHead(204);
        res.end();
        return;
      }
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > options.maxBodyBytes) {
        req.resume();
        sendStatus(res, 413, { Connection: 'close' });
        return;
      }
      const body = await readLimited(req, options.maxBodyBytes);
      if (body === undefined) {
        sendStatus(res, 413, { Connection: 'close' });
        return;
      }
      let existed = true;
      try {
        if ((await cfs.stat(path)).isDirectory()) {
          sendStatus(res, 409); // a directory cannot be replaced by a file
          return;
        }
      } catch (err) {
        if (statusOfError(err) !== 404) throw err;
        existed = false;
      }
      const parent = path.slice(0, path.lastIndexOf('/')) || '/';
      if (!existed && parent !== '/') await cfs.mkdir(parent, { recursive: true });
      await cfs.writeFile(path, body);
      res.writeHead(existed ? 204 : 201, existed ? {} : { Location: req.url ?? path, 'Content-Length': 0 });
      res.end();
    } catch (err) {
      const status = statusOfError(err);
      if (status === 500) options.onError?.(err, req);
      req.resume();
      sendStatus(res, status);
    }
  };
}
