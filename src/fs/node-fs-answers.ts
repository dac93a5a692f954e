import type { BackendStats } from '../backend/backend.js';
import { answeredFsError, hasCode } from '../errors.js';
import { pathString, type PathLike } from '../paths.js';
import type { LookupCount } from '../store/metadata-cache.js';
import { callBackLater } from './callback-ticks.js';
import type { NodeFsContext } from './node-fs-context.js';
import { ABSENT, NOT_A_LINK, NOT_CACHED, type CacheHits } from './node-fs-hits.js';
import { FileStats } from './stats-object.js';

type Callback = (err: unknown, value?: unknown) => void;

/**
 * One answer the cache gave to a callback form, to give again for the same path text: stats (handed
 * out as a fresh {@link FileStats} each time), a link target, a parsed description file, or the code of
 * the error (an absence, a non-link), made afresh each time.
 */
class Answer {
  constructor(
    readonly value: unknown,
    readonly errorCode: string | null,
    /** The path's lookup count in the metadata cache, so that a repeated `stat` still counts. */
    readonly count: LookupCount | undefined,
  ) {}
}

/** Answers kept per kind of call without `metadataMaxEntries`: a crawl that never repeats itself cannot grow them past this. */
const MAX_ANSWERS = 65_536;

/** Errors that say what the namespace holds (nothing there, a file in the way), kept like stats. */
const NAMESPACE_ANSWERS = new Set(['ENOENT', 'ENOTDIR']);

/**
 * The callback forms' answers to questions asked again with the same path text, for resolvers:
 * enhanced-resolve asks `stat`, `readlink` and `readJson` of the same few thousand paths on every
 * request, and most of the answers are errors (no such file, not a link). Node makes a fresh `Error`
 * for each (~0.4 µs even without a stack: more than the rest of a cache hit), and working out the
 * canonical key again (path checks, the directory's resolution, the absence) costs as much again.
 *
 * An answer is kept only while the cache could give it again from memory alone and unchanged: while
 * no metadata was dropped since (the metadata cache's generation moves on every change made through
 * the cache or heard from the watcher), with no revalidation, no tier, no dirty data and the whole
 * backend's view. Its errors are made afresh for every call, without `Error`'s constructor
 * ({@link answeredFsError}).
 */
export class RecentAnswers {
  readonly #ctx: NodeFsContext;
  readonly #hits: CacheHits;
  readonly #wholeBackend: boolean;
  /** Answers kept per kind: no more than the metadata cache may hold. */
  readonly #limit: number;
  #generation = -1;
  readonly #stats = new Map<string, Answer>();
  readonly #lstats = new Map<string, Answer>();
  readonly #links = new Map<string, Answer>();
  readonly #json = new Map<string, Answer>();

  constructor(ctx: NodeFsContext, hits: CacheHits) {
    this.#ctx = ctx;
    this.#hits = hits;
    this.#wholeBackend = ctx.view.root === '';
    this.#limit = ctx.core.opts.metadataMaxEntries || MAX_ANSWERS;
  }

  /**
   * Calls back with `stat` (`follow`) or `lstat` of `path` when the cache knows it (or knows it is
   * missing); false when only the backend can tell, or when the caller must take its ordinary way.
   */
  stats(path: unknown, follow: boolean, callback: Callback): boolean {
    const remembers = isAbsoluteText(path) && this.#current();
    const answers = follow ? this.#stats : this.#lstats;
    if (remembers) {
      const known = answers.get(path);
      if (known !== undefined) {
        if (known.errorCode !== null) {
          callBackLater(callback, answeredFsError(known.errorCode, follow ? 'stat' : 'lstat', path));
        } else {
          this.#ctx.core.meta.hits++;
          if (known.count !== undefined && known.count.live) known.count.n++;
          callBackLater(callback, null, new FileStats(known.value as BackendStats));
        }
        return true;
      }
    }
    const hits = this.#hits;
    const got = hits.stats(path as PathLike, follow);
    if (got === NOT_CACHED) return false;
    if (got === ABSENT) {
      if (remembers) remember(answers, path, new Answer(undefined, 'ENOENT', undefined), this.#limit);
      callBackLater(callback, answeredFsError('ENOENT', follow ? 'stat' : 'lstat', pathString(path as PathLike)));
      return true;
    }
    if (remembers) remember(answers, path, new Answer(got, null, this.#ctx.core.meta.lookups.get(hits.servedKey)), this.#limit);
    callBackLater(callback, null, new FileStats(got));
    return true;
  }

  /** Calls back with `readlink` of `path` (no options: a string target) when the cache alone can tell. */
  readlink(path: unknown, callback: Callback): boolean {
    const remembers = isAbsoluteText(path) && this.#current();
    if (remembers) {
      const known = this.#links.get(path);
      if (known !== undefined) {
        giveAgain(known, 'readlink', path, callback);
        return true;
      }
    }
    const got = this.#hits.readlink(path as PathLike, undefined);
    if (got === NOT_CACHED) return false;
    const answer = got === ABSENT || got === NOT_A_LINK ? new Answer(undefined, got === ABSENT ? 'ENOENT' : 'EINVAL', undefined) : new Answer(got, null, undefined);
    if (remembers) remember(this.#links, path, answer, this.#limit);
    giveAgain(answer, 'readlink', pathString(path as PathLike), callback);
    return true;
  }

  /**
   * `callback`, wrapped to keep the answer the backend gives to this `stat`/`lstat` when the cache would
   * give the same from memory (metadata kept, nothing dropped meanwhile): a resolver's first pass then
   * primes its second.
   */
  learnStats(path: unknown, follow: boolean, callback: Callback): Callback {
    if (!isAbsoluteText(path) || !this.#current()) return callback;
    const generation = this.#generation;
    const answers = follow ? this.#stats : this.#lstats;
    return (err, value) => {
      if (this.#current() && generation === this.#generation) {
        if (err === null && value instanceof FileStats) remember(answers, path, new Answer(new FileStats(value), null, undefined), this.#limit);
        else if (hasCode(err) && NAMESPACE_ANSWERS.has(err.code)) remember(answers, path, new Answer(undefined, err.code, undefined), this.#limit);
      }
      if (err === null) callback(null, value);
      else callback(err);
    };
  }

  /** `callback`, wrapped to keep the backend's `readlink` answer (see {@link learnStats}). */
  learnLink(path: unknown, callback: Callback): Callback {
    if (!isAbsoluteText(path) || !this.#current()) return callback;
    const generation = this.#generation;
    return (err, value) => {
      if (this.#current() && generation === this.#generation) {
        if (err === null && typeof value === 'string') remember(this.#links, path, new Answer(value, null, undefined), this.#limit);
        else if (hasCode(err) && (err.code === 'EINVAL' || NAMESPACE_ANSWERS.has(err.code))) remember(this.#links, path, new Answer(undefined, err.code, undefined), this.#limit);
      }
      if (err === null) callback(null, value);
      else callback(err);
    };
  }

  /** Calls back with `readJson`'s earlier answer for `path` (a value, or ENOENT); false when none is kept. */
  json(path: unknown, callback: Callback): boolean {
    if (!isAbsoluteText(path) || !this.#current()) return false;
    const known = this.#json.get(path);
    if (known === undefined) return false;
    giveAgain(known, 'open', path, callback);
    return true;
  }

  /** Keeps `readJson`'s answer for `path` (its value, or an error code), learnt at `generation`. */
  keepJson(path: unknown, value: unknown, errorCode: string | null, generation: number): void {
    if (errorCode !== null && !NAMESPACE_ANSWERS.has(errorCode)) return;
    if (isAbsoluteText(path) && this.#current() && generation === this.#generation) {
      remember(this.#json, path, new Answer(value, errorCode, undefined), this.#limit);
    }
  }

  /** True when kept answers may be given; forgets them all once any metadata was dropped. */
  #current(): boolean {
    const core = this.#ctx.core;
    if (!this.#wholeBackend || !core.opts.metadataCache || core.revalidateAfter >= 0 || core.tierLink !== undefined) return false;
    if (core.readiness.gate !== undefined || core.closed || core.cache.store.dirtyCount !== 0) return false;
    const generation = core.meta.generation;
    if (generation !== this.#generation) {
      this.#generation = generation;
      this.#stats.clear();
      this.#lstats.clear();
      this.#links.clear();
      this.#json.clear();
    }
    return true;
  }
}

/**
 * Only absolute path texts are kept: a relative one names another file once the process changes its
 * working directory, and Buffers and URLs are rare enough to take the ordinary way.
 */
function isAbsoluteText(path: unknown): path is string {
  return typeof path === 'string' && path.charCodeAt(0) === 47; // '/'
}

/** Calls back with `answer`: its value, or a fresh error of its code for `syscall` on `path`. */
function giveAgain(answer: Answer, syscall: string, path: string, callback: Callback): void {
  if (answer.errorCode === null) callBackLater(callback, null, answer.value);
  else callBackLater(callback, answeredFsError(answer.errorCode, syscall, path));
}

function remember(answers: Map<string, Answer>, path: string, answer: Answer, limit: number): void {
  if (answers.size >= limit) answers.clear();
  answers.set(path, answer);
}
