import type { BackendStats } from '../backend/backend.js';
import type { ReadSource } from './blocks.js';

/**
 * What a cache file handle lends the read path when it holds an open backend file (the backend's
 * optional `open` face): reads by descriptor, and the stats to use for the next miss (the open's own
 * stat for the first one, then `fstat`), so that a miss costs one backend round trip.
 */
export interface OpenFileSource {
  /** Positional reads on the open file; undefined while the backend has no open face. */
  readonly source: ReadSource | undefined;
  /** Stats of the open file, or undefined to fall back to a path `stat`. */
  stats(): Promise<BackendStats> | undefined;
}
