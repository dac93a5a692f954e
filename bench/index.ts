/**
 * `npm run bench [-- [SUITE] [--json FILE] [--filter REGEX] [--time MS] [--warmup MS] [--rounds N]]`
 *
 * Without SUITE, runs the default suites (the seed's table, then the peers) and prints one Markdown table
 * per suite on stdout; progress goes to stderr. `--json FILE` also writes every row with the machine and
 * the date; `--filter REGEX` keeps only the cases whose `suite/name/variant` matches.
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { closeHarness, DEFAULT_HARNESS_OPTIONS, type Row } from './harness.js';
import { allSuites, defaultSuites, getSuite, type ReportRow, type Suite, type SuiteOptions } from './suites.js';
import { formatRows } from './table.js';

/** The machine a run was measured on, as written at the top of the JSON file. */
export interface Machine {
  node: string;
  cpu: string;
  cores: number;
}

/** The `--json` file's content. */
export interface BenchReport {
  machine: Machine;
  /** ISO 8601 time at which the run started. */
  date: string;
  rows: ReportRow[];
}

/** Describes this machine. */
export function machine(): Machine {
  const list = cpus();
  return { node: process.version, cpu: list[0]?.model.trim() ?? 'unknown', cores: list.length };
}

const USAGE = `usage: node --expose-gc dist/bench/index.js [SUITE] [options]

SUITE       one of the suites below; without it, the default run (seed, then peers)
--json FILE write every row, with the machine and the date, to FILE
--filter RE only cases whose "suite/name/variant" matches the regular expression RE
--time MS   tinybench's time budget per case (default ${DEFAULT_HARNESS_OPTIONS.timeMs})
--warmup MS tinybench's warm-up budget per case (default ${DEFAULT_HARNESS_OPTIONS.warmupMs})
--rounds N  rounds the time budget is cut into, variants taking turns (default ${DEFAULT_HARNESS_OPTIONS.rounds})
--help      this text`;

function positiveNumber(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} wants a positive number, got ${value}`);
  return n;
}

async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      json: { type: 'string' },
      filter: { type: 'string' },
      time: { type: 'string' },
      warmup: { type: 'string' },
      rounds: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    const lines = allSuites().map((s) => `  ${s.name.padEnd(10)} ${s.inDefaultRun ? '(default) ' : ''}${s.description}`);
    process.stdout.write(`${USAGE}\n\nsuites:\n${lines.join('\n')}\n`);
    return 0;
  }

  // The first positional word picks a suite; later words belong to that suite.
  let suites: Suite<ReportRow>[];
  let args: string[] = [];
  if (positionals.length > 0) {
    const [word, ...rest] = positionals as [string, ...string[]];
    const suite = getSuite(word);
    if (!suite) {
      process.stderr.write(`bench: no suite called ${word}; known: ${allSuites().map((s) => s.name).join(', ')}\n`);
      return 2;
    }
    suites = [suite];
    args = rest;
  } else {
    suites = defaultSuites();
  }

  const opts: SuiteOptions = {
    timeMs: positiveNumber('--time', values.time, DEFAULT_HARNESS_OPTIONS.timeMs),
    warmupMs: positiveNumber('--warmup', values.warmup, DEFAULT_HARNESS_OPTIONS.warmupMs),
    rounds: Math.ceil(positiveNumber('--rounds', values.rounds, DEFAULT_HARNESS_OPTIONS.rounds ?? 3)),
    ...(values.filter !== undefined ? { filter: new RegExp(values.filter) } : {}),
    args,
  };

  const m = machine();
  const date = new Date().toISOString();
  const started = performance.now();
  process.stdout.write(`cachefs benchmarks — node ${m.node}, ${m.cpu}, ${m.cores} cores, ${date}\n`);

  const rows: ReportRow[] = [];
  for (const suite of suites) {
    process.stderr.write(`bench: ${suite.name}\n`);
    const got = await suite.run(opts);
    rows.push(...got);
    if (got.length === 0) continue;
    const table = suite.format ? suite.format(got) : formatRows(got as Row[]);
    process.stdout.write(`\n## ${suite.name}\n\n${table}\n`);
  }
  closeHarness();

  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`\n${rows.length} rows in ${seconds.toFixed(1)} s\n`);
  if (rows.length === 0) process.stderr.write('bench: no case matched\n');

  if (values.json !== undefined) {
    const report: BenchReport = { machine: m, date, rows };
    writeFileSync(values.json, JSON.stringify(report, null, 2) + '\n');
    process.stderr.write(`bench: wrote ${values.json}\n`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
