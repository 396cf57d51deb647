/**
 * The chaos suite, short: every scenario once (seed from HPO_CHAOS_SEED, default 1). `npm run
 * test:chaos` runs each several times with different seeds and prints the summary table.
 */
import assert from 'node:assert/strict';
import { failed } from './verdict.js';
import { SCENARIOS, runScenario } from './scenarios.js';

describe('chaos: faults injected into a real NATS deployment (one run per scenario)', function () {
  this.timeout(300_000);
  const seed = Number(process.env.HPO_CHAOS_SEED ?? 1);
  for (const [index, scenario] of SCENARIOS.entries()) {
    it(`${scenario.name}: every trial once, in its final state, nothing lost or duplicated`, async () => {
      const r = await runScenario(scenario, seed, index);
      // The assertion that carries the run's error and problems first: a run that failed early (so no
      // trials ran) must show why.
      assert.equal(failed(r), false, `${r.fault}\n${r.error ?? ''}\n${r.problems.join('\n')}`);
      assert.ok(r.trials > 0, `no trials ran: ${r.fault}`);
      assert.deepEqual([r.lost, r.duplicated, r.wrongState], [0, 0, 0]);
    });
  }
});
