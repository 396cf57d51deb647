/**
 * The strategy contract (test/contracts/strategy.contract.ts) on every strategy createStrategy builds
 * (one per method: the single registration), and on TPE with a short start-up so its model proposes.
 */
import { createStrategy, TpeStrategy } from '../orchestrator/strategies/index.js';
import { strategyContract } from './contracts/strategy.contract.js';

strategyContract('grid', 'grid', (space) => createStrategy(space), false);
strategyContract('random', 'random', (space) => createStrategy(space));
strategyContract('bayes (TPE)', 'bayes', (space) => createStrategy(space));
strategyContract(
  'bayes (TPE, 4 start-up trials)',
  'bayes',
  (space) => new TpeStrategy(space, { startupTrials: 4 }),
);
