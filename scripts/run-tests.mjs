// Runs every compiled test file with Node's own runner. The list is explicit (rather than relying on
// `node --test`'s directory or glob handling, which changed between Node 20 and 22) so that helper
// modules under test/ are never mistaken for test files.
import { readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const testRoot = join(root, 'dist', 'test');

function collect(dir) {
  const found = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) found.push(...collect(full));
    else if (name.endsWith('.test.js')) found.push(full);
  }
  return found;
}

const filter = process.argv.slice(2);
let files = collect(testRoot);
// The filter matches the path under dist/test, so a checkout whose own path holds the word (a worktree named
// `remote`) does not match every file.
if (filter.length > 0) files = files.filter((f) => filter.some((part) => relative(testRoot, f).includes(part)));
if (files.length === 0) {
  console.error('run-tests: no test files found under dist/test');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', ...files.map((f) => relative(root, f))], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
