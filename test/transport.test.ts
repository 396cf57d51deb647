import { InProcessTransport } from '../orchestrator/transport/index.js';
import { TrialPool } from '../worker/pool/index.js';
import { transportContract } from './contracts/transport.contract.js';
import { contractUserTasks } from './contracts/user-tasks.fixture.js';
import { skipUnlessNativeBackend } from './helpers/native-backend.js';

transportContract('in-process (Piscina pool, 2 threads)', async () => {
  const transport = new InProcessTransport(
    new TrialPool({ threads: 2, backend: 'cpu', name: 'test-pool', tasks: contractUserTasks().offers }),
  );
  return { transport, cleanup: () => transport.close() };
});

// The same executor on backend tensorflow (several native trial threads in one process).
transportContract(
  'in-process (Piscina pool, backend tensorflow)',
  async () => {
    const transport = new InProcessTransport(
      new TrialPool({
        threads: 2,
        backend: 'tensorflow',
        name: 'test-pool-tf',
        tasks: contractUserTasks().offers,
      }),
    );
    return { transport, cleanup: () => transport.close() };
  },
  { before: (ctx) => skipUnlessNativeBackend(ctx) },
);
