import picomatch from 'picomatch';
import { InvalidArgError } from '../errors.js';

/**
 * Rejects patterns that Go's `path.Match` calls malformed (`ErrBadPattern`): an unclosed `[`, an empty
 * class `[]` or `[^]`, a range without an end (`[a-]`), a trailing `\`. picomatch would silently
 * treat them as literals, which turns a typo into "invalidated nothing".
 */
export function validateGlob(pattern: string, argName = 'pattern'): void {
  if (typeof pattern !== 'string') throw new InvalidArgError(argName, pattern, 'must be a glob string');
  if (pattern.length === 0) throw new InvalidArgError(argName, pattern, 'must not be empty');
  if (pattern.includes('\u0000')) throw new InvalidArgError(argName, pattern, 'must not contain null bytes');
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      if (i === pattern.length - 1) throw new InvalidArgError(argName, pattern, 'is malformed: trailing backslash');
      i++;
    } else if (c === '[') {
      let j = i + 1;
      if (pattern[j] === '^' || pattern[j] === '!') j++;
      if (pattern[j] === ']') throw new InvalidArgError(argName, pattern, 'is malformed: empty character class');
      let closed = false;
      for (; j < pattern.length; j++) {
        const d = pattern[j];
        if (d === '\\') {
          j++;
          if (j >= pattern.length) break;
        } else if (d === ']') {
          closed = true;
          break;
        } else if (d === '-' && (pattern[j + 1] === ']' || j + 1 >= pattern.length)) {
          throw new InvalidArgError(argName, pattern, 'is malformed: character range without an end');
        } else if (d === '/') {
          break;
        }
      }
      if (!closed) throw new InvalidArgError(argName, pattern, "is malformed: unclosed '['");
      i = j;
    }
  }
}

/**
 * Compiles a glob over absolute paths: `*`, `?` and `[…]` stay within a segment, `**` crosses
 * segments, dot-files match like any other name. The pattern must already be absolute.
 */
export function compileGlob(pattern: string, argName = 'pattern'): (path: string) => boolean {
  const cached = compiled.get(pattern);
  if (cached !== undefined) return cached;
  validateGlob(pattern, argName);
  // picomatch lets `/a/**/b` match `/a/b` but not `/**/b` match `/b`; `**/b` matches both `/b` and `/x/b`.
  const source = pattern.startsWith('/**/') ? pattern.slice(1) : pattern;
  const matcher = picomatch(source, { dot: true, nonegate: true, noextglob: true, strictSlashes: true });
  // Compiling a glob costs far more than matching it; programs invalidate the same few patterns again
  // and again (after each deploy, each build), so keep the most recent ones.
  if (compiled.size >= 256) compiled.delete(compiled.keys().next().value as string);
  compiled.set(pattern, matcher);
  return matcher;
}

const compiled = new Map<string, (path: string) => boolean>();
