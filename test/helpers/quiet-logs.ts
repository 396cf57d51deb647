/**
 * Loaded by mocha (.mocharc.json `require`): log lines of components running inside the test process go
 * only at `error` and above (HPO_TEST_LOG_LEVEL to change), so the test report stays readable. Only this
 * process's logger: hpo processes and pool threads a test starts keep the default level, and tests that
 * read log lines build their own logger (helpers/logs.ts).
 */
import { parseLogLevel, rootLogger } from '../../shared/log/index.js';

rootLogger().level = parseLogLevel(process.env.HPO_TEST_LOG_LEVEL ?? 'error', 'HPO_TEST_LOG_LEVEL');
