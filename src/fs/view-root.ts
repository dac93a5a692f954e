// Link targets in a view made by `sub(dir)`. Confinement itself, which asks the backend, is the engine's
// (`engine/view-keys.ts`).
import { isWithin } from '../paths.js';

/**
 * A link target given to a view, as the backend should store it: an absolute target is a path of the
 * view, so it is stored below the view's root (as `nodeBackend` stores one below its own root).
 */
export function targetForBackend(target: string, root: string): string {
  if (root === '' || !target.startsWith('/')) return target;
  return target === '/' ? root : root + target;
}

/** A link target read from the backend, as the view shows it (the inverse of {@link targetForBackend}). */
export function targetForView(target: string, root: string): string {
  if (root === '' || !target.startsWith('/')) return target;
  if (target === root) return '/';
  return isWithin(target, root) ? target.slice(root.length) : target;
}
