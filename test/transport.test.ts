import { InProcessTransport } from '../orchestrator/transport/index.js';
import { TrialPool } from '../worker/pool/index.js';
import { transportContract } from './contracts/transport.contract.js';

transportContract('in-process (Piscina pool, 2 threads)', async () => {
  const transport = new InProcessTransport(new TrialPool({ threads: 2, backend: 'cpu', name: 'test-pool' }));
  return { transport, cleanup: () => transport.close() };
});
