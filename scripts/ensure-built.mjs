// Makes `npm start`, `npm test` and `npm run bench` work on a fresh clone with only Node.js and npm:
// installs the locked dependencies when they are missing, then compiles the TypeScript (incrementally).
import { existsSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd) => execSync(cmd, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });

if (!existsSync(join(root, 'node_modules', 'typescript'))) {
  console.error('cachefs: installing dependencies (npm ci)…');
  run('npm ci --no-audit --no-fund');
}
run(`"${process.execPath}" node_modules/typescript/bin/tsc -p .`);
