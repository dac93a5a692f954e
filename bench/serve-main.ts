/**
 * The serve comparison on its own, without the rest of the suite:
 *
 *   node dist/bench/serve-main.js [--connections 32] [--duration 3] [--warmup 1] [--rounds 2]
 *                                 [--variants cachefs,sirv,limit] [--json FILE]
 *
 * Prints the machine, the Markdown table and the ratios cachefs ÷ sirv and cachefs ÷ limit; `--json`
 * also writes `{ machine, date, rows }`.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { formatServeTable, runServeBench, serveOptionsFromArgs } from './serve.js';

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(
      'usage: node dist/bench/serve-main.js [--connections N] [--duration S] [--warmup S] [--rounds N] [--variants a,b] [--json FILE]\n',
    );
    return 0;
  }
  let json: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--json') json = argv[++i];
    else if (argv[i]!.startsWith('--json=')) json = argv[i]!.slice(7);
    else rest.push(argv[i]!);
  }
  const opts = serveOptionsFromArgs(rest);
  const list = cpus();
  const machine = { node: process.version, cpu: list[0]?.model.trim() ?? 'unknown', cores: list.length };
  const date = new Date().toISOString();
  process.stdout.write(
    `cachefs serve benchmark — node ${machine.node}, ${machine.cpu}, ${machine.cores} cores, load ${loadavg()[0]!.toFixed(2)}, ${date}\n` +
      `autocannon, ${opts.connections ?? 32} connections, loopback, each server in its own process\n\n`,
  );
  const rows = await runServeBench(opts);
  process.stdout.write(formatServeTable(rows) + '\n');
  if (json !== undefined) {
    writeFileSync(json, JSON.stringify({ machine, date, rows }, null, 2) + '\n');
    process.stderr.write(`serve bench: wrote ${json}\n`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
