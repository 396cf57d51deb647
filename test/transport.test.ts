import { InProcessTransport } from '../orchestrator/transport/index.js';
import { TrialPool } from '../worker/pool/index.js';
import { transportContract } from './contracts/transport.contract.js';
import { contractUserTasks } from './contracts/user-tasks.fixture.js';

transportContract('in-process (Piscina pool, 2 threads)', async () => {
  const transport = new InProcessTransport(
    new TrialPool({ threads: 2, backend: 'cpu', name: 'test-pool', tasks: contractUserTasks().offers }),
  );
  return { transport, cleanup: () => transport.close() };
});
