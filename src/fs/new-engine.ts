import type { Backend } from '../backend/backend.js';
import { Engine } from '../engine/engine.js';
import { InvalidArgError } from '../errors.js';
import { resolveOptions, type CacheFSOptions } from '../options.js';
import { RedisTier } from '../tier/redis-tier.js';

const REQUIRED_BACKEND_METHODS = [
  'stat', 'lstat', 'readFile', 'writeFile', 'readdir', 'mkdir', 'rmdir', 'unlink', 'rename', 'truncate', 'chmod', 'utimes',
  'symlink', 'readlink',
] as const;

/**
 * The engine of a new `CacheFS`: the backend checked, the options validated, the shared tier built when
 * configured (and closed again if the engine cannot be built).
 */
export function engineFor(backend: Backend, options: CacheFSOptions | undefined): Engine {
  checkBackend(backend);
  const resolved = resolveOptions(options);
  const tier = resolved.tier ? new RedisTier(resolved.tier) : undefined;
  try {
    return new Engine(backend, resolved, tier);
  } catch (err) {
    void tier?.close();
    throw err;
  }
}

/** Throws `ERR_INVALID_ARG_VALUE` unless `backend` is an object with every required method. */
function checkBackend(backend: Backend): void {
  if (!backend || typeof backend !== 'object') throw new InvalidArgError('backend', backend, 'must be a Backend object');
  for (const m of REQUIRED_BACKEND_METHODS) {
    if (typeof (backend as unknown as Record<string, unknown>)[m] !== 'function') {
      throw new InvalidArgError('backend', backend, `must implement ${m}()`);
    }
  }
}
