import type { Backend } from '../backend/backend.js';
import { fsError } from '../errors.js';
import { isWithin, joinPath, normalizeText, parentOf } from '../paths.js';
import { isDirectoryMode, isSymlinkMode } from '../util/modes.js';
import type { Engine } from './engine.js';

/** Links followed before a path is declared a loop, as Linux's MAXSYMLINKS. */
const MAX_HOPS = 40;

/** The normalized form of `target`, a link's text, read relative to the link's directory `dir`. */
function linkDestination(dir: string, target: string): string {
  return normalizeText(target.startsWith('/') ? target : joinPath(dir, target));
}

/**
 * Checks that `real` (a backend key with every existing link resolved) stays below the view's `root`,
 * and that if it is itself a dangling link, where a create would land does too. Fails `syscall` with
 * `EACCES`, as `nodeBackend` does at its root.
 */
async function confineToView(backend: Backend, real: string, root: string, syscall: string, shown: string): Promise<void> {
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
 * The keys of one view's paths: a `CacheFS`, or a view made by `sub(dir)` whose `/` is the backend
 * directory `root`. Keys are resolved through the engine and, like `nodeBackend` at its root, a view
 * cannot be left through `..` (paths are normalized before they get here) or through a symbolic link,
 * whether it was made through the view, through the parent cache or on disk. A path spelled as a
 * directory (`f/`) must name one, as Node checks.
 */
export class ViewKeys {
  constructor(
    private readonly engine: Engine,
    /** The backend path of the view's `/` (`''` for the whole backend). */
    private readonly root: string,
  ) {}

  /** `key` with its parent's links resolved (the path itself is not followed), kept inside the view. */
  async link(key: string, shown: string, syscall: string, asDirectory: boolean): Promise<string> {
    const linked = await this.engine.resolveParent(key, this.root);
    if (this.root !== '' && !isWithin(linked, this.root)) throw fsError('EACCES', syscall, shown);
    if (asDirectory) await this.mustBeDirectory(await this.engine.resolve(linked), shown, syscall, false);
    return linked;
  }

  /** `key` with every link resolved, kept inside the view; `creates`: a call that would create a file. */
  async real(key: string, shown: string, syscall: string, asDirectory: boolean, creates = false): Promise<string> {
    const real = await this.engine.resolve(key);
    await this.confine(real, shown, syscall, asDirectory, creates);
    return real;
  }

  /** Fails `syscall` unless `real` (a key with its links resolved) stays in the view (and is a directory when asked). */
  async confine(real: string, shown: string, syscall: string, asDirectory: boolean, creates = false): Promise<void> {
    if (this.root !== '') await confineToView(this.engine.backend, real, this.root, syscall, shown);
    if (asDirectory) await this.mustBeDirectory(real, shown, syscall, creates);
  }

  /** `ENOTDIR` unless `key` is a directory (or missing: the call itself then answers); `EISDIR` for a creation. */
  private async mustBeDirectory(key: string, shown: string, syscall: string, creates: boolean): Promise<void> {
    if (creates) throw fsError('EISDIR', syscall, shown);
    if (this.engine.store.lookup(key) >= 0) throw fsError('ENOTDIR', syscall, shown);
    let mode: number;
    try {
      mode = (await this.engine.backend.stat(key)).mode;
    } catch {
      return; // missing: the call itself gives Node's answer
    }
    if (!isDirectoryMode(mode)) throw fsError('ENOTDIR', syscall, shown);
  }
}
