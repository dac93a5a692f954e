// Makes `npm start`, `npm test` and `npm run bench` work on a fresh clone with only Node.js and npm:
// installs the locked dependencies when they are missing, then compiles the TypeScript (incrementally).
// With --no-install (`npm run build`, `npm pack`), missing dependencies are a one-line message instead.
import { existsSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd) => execSync(cmd, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });

if (!existsSync(join(root, 'node_modules', 'typescript'))) {
  if (process.argv.includes('--no-install')) {
    console.error('cachefs: the dependencies are not installed: run `npm install` first (it also builds).');
    process.exit(1);
  }
  console.error('cachefs: installing dependencies (npm ci)…');
  run('npm ci --no-audit --no-fund');
}
try {
  run(`"${process.execPath}" node_modules/typescript/bin/tsc -p .`);
} catch {
  console.error('cachefs: the TypeScript build failed (the errors are above).');
  process.exit(1);
}
