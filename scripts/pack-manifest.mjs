// `npm pack` / `npm publish` run `prepack` and `postpack` around packing: `strip` takes the repository's
// `prepare` script (which builds after `npm install` in a clone) out of package.json, so that the
// published manifest has none, and `restore` puts it back. The same trick as pinst's; the file is
// replaced atomically, so a reader never sees half of it. `strip` also removes compiled files under
// dist/src whose source is gone (tsc never deletes them), so that the package ships only live modules.
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PREPARE = 'node scripts/ensure-built.mjs';
const file = join(dirname(fileURLToPath(import.meta.url)), '..', 'package.json');
const text = readFileSync(file, 'utf8');
const manifest = JSON.parse(text);
const mode = process.argv[2];
if (mode === 'strip') {
  delete manifest.scripts.prepare;
  pruneStaleOutputs(join(dirname(file), 'dist', 'src'), join(dirname(file), 'src'));
}
else if (mode === 'restore') manifest.scripts.prepare = PREPARE;
else {
  console.error('usage: node scripts/pack-manifest.mjs strip|restore');
  process.exit(2);
}
const next = JSON.stringify(manifest, null, 2) + '\n';
if (next !== text) {
  writeFileSync(`${file}.tmp`, next);
  renameSync(`${file}.tmp`, file);
}

function pruneStaleOutputs(outDir, srcDir) {
  if (!existsSync(outDir)) return;
  for (const entry of readdirSync(outDir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const match = /^(.*)\.(js|d\.ts)(\.map)?$/.exec(entry.name);
    if (!match) continue;
    const rel = join(entry.parentPath, match[1]).slice(outDir.length);
    if (!existsSync(join(srcDir, `${rel}.ts`))) rmSync(join(entry.parentPath, entry.name));
  }
}
