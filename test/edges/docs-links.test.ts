// Issue 17, item 13: the README fits on a few screens, and every relative link in README.md and
// docs/*.md leads somewhere: the file exists and, for a `#anchor`, the target page has that heading
// (GitHub's anchor rule: lower case, punctuation dropped, spaces to hyphens, repeats numbered).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { ROOT } from '../cli/helpers.js';

/** The text outside fenced code blocks and inline code, where links are links. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's anchors for the headings of a page. */
export function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const line of markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').split('\n')) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = m[1]!
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

function pages(): string[] {
  const docs = join(ROOT, 'docs');
  return [join(ROOT, 'README.md'), ...readdirSync(docs).filter((f) => f.endsWith('.md')).map((f) => join(docs, f))];
}

test('the README is at most 300 lines and keeps the two quick-start commands', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const lines = readme.split('\n').length - (readme.endsWith('\n') ? 1 : 0);
  assert.ok(lines <= 300, `README.md has ${lines} lines`);
  assert.match(readme, /^npm start\b/m);
  assert.match(readme, /^npm test\b/m);
});

test('every relative link in README.md and docs/*.md resolves, anchors included', () => {
  const broken: string[] = [];
  let checked = 0;
  for (const page of pages()) {
    const text = readFileSync(page, 'utf8');
    for (const m of prose(text).matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = m[1]!;
      if (target === '' || /^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // absolute URLs are not ours to check
      checked++;
      const [file, anchor] = target.split('#', 2) as [string, string | undefined];
      const resolved = file === '' ? page : join(dirname(page), decodeURIComponent(file));
      const where = `${relative(ROOT, page)}: (${target})`;
      if (!existsSync(resolved)) {
        broken.push(`${where}: no such file`);
        continue;
      }
      if (anchor !== undefined && resolved.endsWith('.md') && !anchorsOf(readFileSync(resolved, 'utf8')).has(anchor)) {
        broken.push(`${where}: no heading #${anchor} in ${relative(ROOT, resolved)}`);
      }
    }
  }
  assert.ok(checked > 20, `only ${checked} links found: the scan is broken`);
  assert.deepEqual(broken, []);
});

test('the link check itself catches a missing file and a missing anchor', () => {
  assert.ok(anchorsOf('# The `cachefs` command\n## Symbolic links, `sub()` and concurrency\n## A\n## A\n').has('symbolic-links-sub-and-concurrency'));
  assert.ok(anchorsOf('# The `cachefs` command\n').has('the-cachefs-command'));
  assert.ok(anchorsOf('## A\n## A\n').has('a-1'));
  assert.ok(!anchorsOf('```\n# not a heading\n```\n').has('not-a-heading'));
  assert.equal(prose('see `[x](nowhere.md)` and\n```\n[y](nowhere.md)\n```\n').includes('nowhere'), false);
});
