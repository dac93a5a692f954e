import { hasCode } from '../errors.js';
import type { PathLike } from '../paths.js';
import { callBackLater } from './callback-ticks.js';
import type { RecentAnswers } from './node-fs-answers.js';
import { checkCallback, checkPath, type NodeFsContext } from './node-fs-context.js';

type ReadFileCallback = (path: PathLike, cb: (err: unknown, data?: Buffer | string) => void) => void;

/**
 * `readJson` and `readJsonSync`: not Node's, but what enhanced-resolve (webpack's resolver) asks of a
 * file system that has them, as its own `CachedInputFileSystem` gives them: a description file's
 * content parsed, the same object again while the file is unchanged. The parsed value is kept beside
 * the file's metadata and dropped with it (any change through the cache, revalidation, a watch event),
 * so it is kept only with `metadataCache` and without revalidation or a tier. Callers must not mutate it.
 * Errors as `CachedInputFileSystem`'s: the read's own, JSON.parse's, or `No file content` for an empty file.
 */
export function jsonForms(ctx: NodeFsContext, answers: RecentAnswers, readFile: ReadFileCallback, readFileSync: (path: PathLike) => Buffer | string) {
  const { core, view } = ctx;
  const keeps = (): boolean => core.opts.metadataCache && core.revalidateAfter < 0 && core.tierLink === undefined && view.root === '';

  /** The real key of `path` when known, for the parsed value's place. */
  const realOf = (path: PathLike): string | undefined => (keeps() ? core.resolvedKey(view.keyOf(path)) : undefined);

  const parse = (data: Buffer | string): unknown => {
    if (data.length === 0) throw new Error('No file content');
    return JSON.parse(typeof data === 'string' ? data : data.toString('utf-8'));
  };

  return {
    readJson(path: PathLike, cb: unknown): void {
      checkCallback(cb);
      if (answers.json(path, cb)) return;
      checkPath(path);
      const generation = core.meta.generation;
      const real = realOf(path);
      const kept = real === undefined || core.closed ? undefined : core.meta.parsedJson(real);
      if (kept !== undefined) {
        answers.keepJson(path, kept, null, generation);
        return callBackLater(cb, null, kept);
      }
      readFile(path, (err, data) => {
        if (err) {
          if (hasCode(err)) answers.keepJson(path, undefined, err.code, generation);
          return cb(err);
        }
        let value: unknown;
        try {
          value = parse(data!);
        } catch (parseError) {
          return cb(parseError);
        }
        const known = realOf(path);
        if (known !== undefined) {
          core.meta.setParsedJson(known, value, generation);
          answers.keepJson(path, value, null, generation);
        }
        cb(null, value);
      });
    },
    readJsonSync(path: PathLike): unknown {
      checkPath(path);
      const real = realOf(path);
      const kept = real === undefined || core.closed ? undefined : core.meta.parsedJson(real);
      if (kept !== undefined) return kept;
      const generation = core.meta.generation;
      const value = parse(readFileSync(path));
      const known = realOf(path);
      if (known !== undefined) core.meta.setParsedJson(known, value, generation);
      return value;
    },
  };
}

