/**
 * One HTTP server of the serve benchmark, in its own process so that the load generator (autocannon,
 * in the parent) never shares an event loop with it. Started by serve.ts with `fork`:
 *
 *   node dist/bench/serve-child.js VARIANT DIR
 *
 * It listens on 127.0.0.1 on a free port, sends `{ port }` to the parent, and exits when the parent
 * disconnects. Variants:
 * - `cachefs`: `createCacheServer` over `nodeBackend(DIR)`, as `cachefs serve DIR` runs it
 *   (`metadataCache: true`, default limits).
 * - `cachefs-miss`: the same with `maxBytes: 1`, so no file fits and every request reads the disk:
 *   what a miss costs.
 * - `sirv`: sirv's handler (production mode, ETags on) in a bare `node:http` server.
 * - `limit`: a bare `node:http` server answering from a `Map` of `Buffer`s read at start-up, with
 *   Content-Type and Content-Length: what any Node server has to do at least.
 */
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sirv from 'sirv';
import { CacheFS, nodeBackend } from '../src/index.js';
import { createCacheServer } from '../src/server/serve.js';
import { contentTypeOf } from '../src/server/content-types.js';

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'Content-Length': 0 });
  res.end();
}

function limitHandler(dir: string): RequestListener {
  const files = new Map<string, { body: Buffer; headers: Record<string, string | number> }>();
  for (const name of readdirSync(dir)) {
    const body = readFileSync(join(dir, name));
    files.set(`/${name}`, { body, headers: { 'Content-Type': contentTypeOf(name), 'Content-Length': body.length } });
  }
  return (req: IncomingMessage, res: ServerResponse) => {
    const file = files.get(req.url ?? '');
    if (file === undefined) return notFound(res);
    res.writeHead(200, file.headers);
    res.end(file.body);
  };
}

async function start(variant: string, dir: string): Promise<number> {
  if (variant === 'cachefs' || variant === 'cachefs-miss') {
    const cfs = new CacheFS(nodeBackend(dir), { metadataCache: true, ...(variant === 'cachefs-miss' ? { maxBytes: 1 } : {}) });
    const server = createCacheServer(cfs, { admin: false });
    return (await server.listen(0, '127.0.0.1')).port;
  }
  let handler: RequestListener;
  if (variant === 'sirv') {
    const serveStatic = sirv(dir, { etag: true });
    handler = (req, res) => serveStatic(req, res, () => notFound(res));
  } else if (variant === 'limit') {
    handler = limitHandler(dir);
  } else {
    throw new Error(`serve-child: unknown variant ${variant}`);
  }
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

const [variant, dir] = process.argv.slice(2);
if (variant === undefined || dir === undefined || !process.send) {
  process.stderr.write('usage: node dist/bench/serve-child.js VARIANT DIR (started by serve.ts through fork)\n');
  process.exit(2);
}
start(variant, dir).then(
  (port) => {
    process.send!({ port });
    process.on('disconnect', () => process.exit(0));
  },
  (err: unknown) => {
    process.stderr.write(`serve-child ${variant}: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
