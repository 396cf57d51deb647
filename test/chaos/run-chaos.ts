/**
 * `npm run test:chaos`: every chaos scenario, several times with different seeds, then a summary
 * table (scenario, runs, trials, lost, duplicated, wrong state). Exits 1 if any run lost, duplicated
 * or misplaced a trial, or broke. Options: --repeats N (default 3), --seed S (first seed, default 1),
 * --only TEXT (scenarios whose name contains it), --out FILE (every run's record as JSON).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { plainTable } from '../../cli/plain-table.js';
import { type RunRecord, SCENARIOS, runScenario } from './scenarios.js';
import { failed } from './verdict.js';

export function summaryTable(records: RunRecord[]): string {
  const table = plainTable(['scenario', 'runs', 'trials', 'lost', 'duplicated', 'wrong state', 'broken']);
  for (const s of SCENARIOS) {
    const runs = records.filter((r) => r.scenario === s.name);
    if (runs.length === 0) continue;
    const sum = (f: (r: RunRecord) => number) => runs.reduce((a, r) => a + f(r), 0);
    table.push([
      s.name,
      runs.length,
      sum((r) => r.trials),
      sum((r) => r.lost),
      sum((r) => r.duplicated),
      sum((r) => r.wrongState),
      sum((r) => (r.error ? 1 : 0)),
    ]);
  }
  return table.toString();
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      repeats: { type: 'string', default: '3' },
      seed: { type: 'string', default: '1' },
      only: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const repeats = Number(values.repeats);
  const firstSeed = Number(values.seed);
  if (!Number.isInteger(repeats) || repeats < 1) throw new Error('--repeats: expected a positive integer');
  if (!Number.isInteger(firstSeed) || firstSeed < 0) throw new Error('--seed: expected an integer >= 0');
  const scenarios = SCENARIOS.filter((s) => values.only === undefined || s.name.includes(values.only));
  const records: RunRecord[] = [];
  for (let i = 0; i < repeats; i++) {
    for (const [index, s] of scenarios.entries()) {
      const seed = firstSeed + i;
      const r = await runScenario(s, seed, index);
      records.push(r);
      const verdict = failed(r) ? 'FAIL' : 'ok';
      process.stdout.write(
        `${verdict.padEnd(4)} ${s.name} (seed ${seed}, ${r.seconds.toFixed(1)} s): ${r.trials} trials; ${r.fault}\n`,
      );
      if (failed(r)) process.stdout.write(`${r.error ?? ''}\n${r.problems.join('\n')}\n`);
    }
  }
  process.stdout.write(`\n${summaryTable(records)}\n`);
  if (values.out) writeFileSync(values.out, `${JSON.stringify(records, null, 2)}\n`);
  const bad = records.filter(failed).length;
  process.stdout.write(bad === 0 ? 'chaos: every run ok\n' : `chaos: ${bad} run(s) failed\n`);
  process.exitCode = bad === 0 ? 0 : 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
