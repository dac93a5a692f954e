import type { Engine } from '../engine/engine.js';
import type { PathLike } from '../paths.js';

/**
 * What warming and the batch operations need from a `CacheFS` (or a view of it made by `sub`): its
 * shared core and the mapping between the view's paths and backend keys. The facade builds one, so
 * these modules never reach into its private members.
 */
export interface CacheView {
  readonly core: Engine;
  /** Throws `ERR_CACHEFS_CLOSED` when the view or its cache is closed. */
  check(operation: string): void;
  /** The backend key of a path of this view (normalized against the working directory); throws on an invalid path. */
  keyOf(path: PathLike, argName?: string): string;
  /** The path in this view of a backend key, or undefined when the key lies outside the view. */
  viewOf(key: string): string | undefined;
  /** The view's working directory. */
  cwd(): string;
  /** Reads a whole file through the cache, as the program's own `readFile` does. */
  readText(path: PathLike): Promise<string>;
}
