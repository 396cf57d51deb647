/**
 * `npm run bench:protocol -- [--compare OLD/validate.js] [--corpus N] [--rounds N] [--out FILE.json]`:
 * messages/s of the bus validators on the dispatch hot path (trial spec, result event; from parsed
 * JSON and from bytes), and with `--compare` the same figures for another build's validate.js (e.g.
 * main's `dist/shared/protocol/validate.js`) plus the agreement of both on a corpus of valid and broken
 * messages (corpus.ts). Prints a table and writes the figures as JSON.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadavg } from 'node:os';
import { Command, Option } from 'commander';
import { positiveInt } from '../../cli/options/option-values.js';
import { Prng } from '../../shared/prng.js';
import * as current from '../../shared/protocol/validate.js';
import { encodeMessage, parseMessage } from '../../shared/protocol/validate.js';
import { type Agreement, compareValidators, type Validators } from './corpus.js';
import { resultEvent, trialSpec } from './samples.js';

interface Flags {
  compare?: string;
  corpus: number;
  rounds: number;
  out: string;
}

type Check = (input: unknown) => { ok: boolean };

/** Messages/s of `validate` over `inputs` for about 300 ms. */
function rate(validate: Check, inputs: unknown[]): number {
  let n = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < 300) {
    for (const input of inputs) if (!validate(input).ok) throw new Error('a valid sample was refused');
    n += inputs.length;
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  return (n / elapsed) * 1000;
}

/** The figures' checks of one build: trial specs and results, parsed and as bytes. */
function checks(v: Validators): Record<string, Check> {
  return {
    trial_spec: (m) => v.validateTrialSpec(m),
    result_event: (m) => v.validateResultEvent(m),
    trial_spec_bytes: (b) => parseMessage(b as Uint8Array, v.validateTrialSpec),
    result_event_bytes: (b) => parseMessage(b as Uint8Array, v.validateResultEvent),
  };
}

/**
 * Median messages/s of each build per figure over `rounds` rounds; the builds take turns round by
 * round, so a change of machine load falls on both alike.
 */
function speed(builds: Record<string, Validators>, rounds: number): Record<string, Record<string, number>> {
  const rng = new Prng(7);
  const now = Date.now();
  const specs = Array.from({ length: 256 }, () => trialSpec(rng));
  const results = Array.from({ length: 256 }, () => resultEvent(rng, now));
  const inputs: Record<string, unknown[]> = {
    trial_spec: specs,
    result_event: results,
    trial_spec_bytes: specs.map((m) => encodeMessage(m)),
    result_event_bytes: results.map((m) => encodeMessage(m)),
  };
  const out: Record<string, Record<string, number>> = {};
  for (const figure of Object.keys(inputs)) {
    const runs: Record<string, number[]> = {};
    for (let r = 0; r < rounds; r++) {
      for (const [name, v] of Object.entries(builds))
        (runs[name] ??= []).push(rate(checks(v)[figure], inputs[figure]));
    }
    for (const [name, list] of Object.entries(runs)) {
      (out[name] ??= {})[figure] = Math.round(list.sort((a, b) => a - b)[Math.floor(list.length / 2)]);
    }
  }
  return out;
}

async function main(flags: Flags): Promise<void> {
  const load = loadavg().map((l) => l.toFixed(2));
  const newer = current as unknown as Validators;
  const older = flags.compare
    ? ((await import(pathToFileURL(resolve(flags.compare)).href)) as Validators)
    : undefined;
  const report: Record<string, unknown> = { load_before: load, node: process.version };
  let agreement: Agreement | undefined;
  if (older) {
    agreement = compareValidators(older, newer, flags.corpus);
    report.agreement = agreement;
  }
  const figures = speed(older ? { new: newer, old: older } : { new: newer }, flags.rounds);
  report.messages_per_s = figures;
  report.load_after = loadavg().map((l) => l.toFixed(2));
  console.log(`load average before ${load.join(' ')}, after ${(report.load_after as string[]).join(' ')}`);
  const builds = Object.keys(figures);
  console.log(`${'messages/s'.padEnd(18)}${builds.map((k) => k.padStart(12)).join('')}`);
  for (const row of Object.keys(figures.new)) {
    console.log(row.padEnd(18) + builds.map((b) => String(figures[b][row]).padStart(12)).join(''));
  }
  if (agreement) {
    const { messages, accepted, agree, differences } = agreement;
    console.log(
      `corpus: ${messages} messages (${accepted} valid), old and new agree on ${agree}, differ on ${differences}`,
    );
    for (const d of agreement.differ)
      console.log(`  ${d.kind}: ${d.message}\n    old: ${d.old}\n    new: ${d.new}`);
  }
  writeFileSync(flags.out, `${JSON.stringify(report, null, 2)}\n`);
}

const program = new Command('bench-protocol')
  .option('--compare <validate.js>', 'another build of shared/protocol/validate.js to compare with')
  .addOption(
    new Option('--corpus <n>', 'valid messages per kind in the corpus').argParser(positiveInt).default(5000),
  )
  .addOption(new Option('--rounds <n>', 'timed rounds per figure (median)').argParser(positiveInt).default(5))
  .option('--out <file>', 'JSON report', 'bench-protocol.json')
  .action((flags: Flags) => main(flags));
await program.parseAsync();
