import { constants } from 'node:fs';
import * as nodePromises from 'node:fs/promises';
import { SyncPort } from '../engine/sync-port.js';
import type { CacheFS } from './cachefs.js';
import { VIEW_OF } from './internals.js';
import { callbackForms } from './node-fs-callbacks.js';
import type { NodeFsContext } from './node-fs-context.js';
import { descriptorForms } from './node-fs-descriptors.js';
import { cacheHits } from './node-fs-hits.js';
import { RecentAnswers } from './node-fs-answers.js';
import { jsonForms } from './node-fs-json.js';
import { watchForms } from './node-fs-watch.js';
import { streamForms } from './node-fs-streams.js';
import { syncForms } from './node-fs-sync.js';
import { moreSyncForms } from './node-fs-sync-more.js';
import { promisifyLikeNode } from './node-fs-promisify.js';
import { vectorForms } from './node-fs-vectors.js';
import { DirEntry, FileStats } from './stats-object.js';

/**
 * An object shaped like `node:fs` over `cache`, for programs that take an fs module (resolvers,
 * bundlers, glob libraries, compilers): callback forms, `…Sync` forms (a hit from the cache, a miss from
 * the backend's synchronous face), numeric descriptors, streams, `promises` (the cache itself),
 * `constants`, and `Stats`/`Dirent`. See docs/node-fs.md for the rules of the sync forms.
 *
 * @example
 * const resolver = ResolverFactory.createResolver({ fileSystem: toNodeFs(cache), extensions: ['.js'] });
 */
export function toNodeFs(cache: CacheFS) {
  const ctx: NodeFsContext = { cache, core: cache.core, view: cache[VIEW_OF](), port: new SyncPort(cache.core) };
  const hits = cacheHits(ctx);
  const sync = syncForms(ctx, hits);
  const { createEmpty: _createEmpty, currentBytes: _currentBytes, ...syncPublic } = sync;
  const answers = new RecentAnswers(ctx, hits);
  const callbacks = callbackForms(ctx, hits, answers);
  const descriptors = descriptorForms(ctx, sync);
  const { descriptorOf: _descriptorOf, ...descriptorPublic } = descriptors;
  const vectors = vectorForms(ctx, descriptors, sync);
  promisifyLikeNode({ exists: callbacks.exists as never, read: descriptors.read as never, write: descriptors.write as never, readv: vectors.readv as never, writev: vectors.writev as never });
  return {
    ...callbacks,
    ...syncPublic,
    ...moreSyncForms(ctx, sync),
    ...descriptorPublic,
    ...vectors,
    ...streamForms(ctx),
    ...watchForms(ctx),
    ...jsonForms(ctx, answers, callbacks.readFile as never, syncPublic.readFileSync),
    promises: detachable(cache),
    constants,
    // Node still offers the access modes on the module itself, and older programs read them there.
    F_OK: constants.F_OK,
    R_OK: constants.R_OK,
    W_OK: constants.W_OK,
    X_OK: constants.X_OK,
    Stats: FileStats,
    Dirent: DirEntry,
  };
}

/**
 * Gives `cache` its fs/promises methods as own functions bound to it, so that they work taken off it
 * as Node's do: rollup's `fs` option destructures `{ mkdir, writeFile }` and calls them alone, where the
 * prototype's methods would find no `this`. `promises` stays the cache itself, as API.md says.
 */
function detachable(cache: CacheFS): CacheFS {
  const methods = cache as unknown as Record<string, unknown>;
  for (const name of Object.keys(nodePromises)) {
    const method = methods[name];
    if (typeof method === 'function' && !Object.hasOwn(cache, name)) {
      Object.defineProperty(cache, name, { value: method.bind(cache), writable: true, configurable: true, enumerable: false });
    }
  }
  return cache;
}

/** What {@link toNodeFs} returns. */
export type NodeFs = ReturnType<typeof toNodeFs>;
