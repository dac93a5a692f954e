/**
 * Confinement of a view made by `sub(dir)`: its `/` is a backend directory, and like `nodeBackend`'s
 * root it cannot be left, through `..` (paths are normalized before they get here) or through a
 * symbolic link, whether it was made through the view, through the parent cache or on disk.
 */
import type { Backend } from '../backend/backend.js';
import { fsError } from '../errors.js';
import { isWithin, joinPath, parentOf } from '../paths.js';
import { isSymlinkMode } from '../util/modes.js';

/** Links followed before a path is declared a loop, as Linux's MAXSYMLINKS. */
const MAX_HOPS = 40;

/** The normalized form of `target`, a link's text, read relative to the link's directory `dir`. */
function linkDestination(dir: string, target: string): string {
  const full = target.startsWith('/') ? target : joinPath(dir, target);
  const out: string[] = [];
  for (const segment of full.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') out.pop();
    else out.push(segment);
  }
  return '/' + out.join('/');
}

/**
 * Checks that `real` (a backend key with every existing link resolved) stays below the view's `root`,
 * and that if it is itself a dangling link, where a create would land does too. Fails `syscall` with
 * `EACCES`, as `nodeBackend` does at its root.
 */
export async function confineToView(backend: Backend, real: string, root: string, syscall: string, shown: string): Promise<void> {
  if (!isWithin(real, root)) throw fsError('EACCES', syscall, shown);
  // A path whose link target is missing resolves to the link itself; follow its text to see where
  // a write through it would create the file.
  let probe = real;
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    let mode: number;
    try {
      mode = (await backend.lstat(probe)).mode;
    } catch {
      return;
    }
    if (!isSymlinkMode(mode)) return;
    const target = await backend.readlink(probe);
    probe = linkDestination(parentOf(probe), target);
    if (!isWithin(probe, root)) throw fsError('EACCES', syscall, shown);
  }
  throw fsError('ELOOP', syscall, shown);
}

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
