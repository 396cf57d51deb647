import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import {
  createLogger,
  DEFAULT_LOG_LEVEL,
  logLevelFromEnv,
  parseLogLevel,
  RateLimitedLog,
  silentLogger,
} from '../shared/log/index.js';
import { UsageError } from '../shared/errors.js';
import { captureLogs } from './helpers/logs.js';

describe('logger factory (shared/log)', () => {
  it('writes one JSON object per line: level label, msg, ISO time, pid and hostname', () => {
    const lines: string[] = [];
    const logger = createLogger({ pretty: false, destination: { write: (l) => lines.push(l) } });
    logger.warn({ trial: 't0001' }, 'trial failed');
    assert.equal(lines.length, 1);
    assert.ok(lines[0].endsWith('\n') && !lines[0].slice(0, -1).includes('\n'), JSON.stringify(lines[0]));
    const rec = JSON.parse(lines[0]) as Record<string, unknown>;
    assert.equal(rec.level, 'warn');
    assert.equal(rec.msg, 'trial failed');
    assert.equal(rec.trial, 't0001');
    assert.equal(rec.pid, process.pid);
    assert.equal(rec.hostname, hostname());
    assert.match(String(rec.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('drops lines below its level; silent drops everything', () => {
    const warn = captureLogs('warn');
    warn.logger.trace('t');
    warn.logger.debug('d');
    warn.logger.info('i');
    warn.logger.warn('w');
    warn.logger.error('e');
    warn.logger.fatal('f');
    assert.deepEqual(
      warn.records().map((r) => r.level),
      ['warn', 'error', 'fatal'],
    );
    const trace = captureLogs('trace');
    trace.logger.trace('t');
    trace.logger.debug('d');
    assert.deepEqual(
      trace.records().map((r) => r.level),
      ['trace', 'debug'],
    );
    const silent = captureLogs('silent');
    silent.logger.fatal('f');
    assert.deepEqual(silent.records(), []);
    assert.equal(silentLogger().level, 'silent');
    assert.equal(createLogger({ destination: { write: () => {} } }).level, DEFAULT_LOG_LEVEL);
    assert.equal(DEFAULT_LOG_LEVEL, 'info');
  });

  it('child loggers carry experiment, trial, attempt and worker on every line, and nest', () => {
    const logs = captureLogs();
    const runner = logs.logger.child({ experiment: 'e1' });
    const trial = runner.child({ trial: 't0003', attempt: 2, worker: 'host:42' });
    runner.info('run started');
    trial.warn({ error: 'boom' }, 'trial failed');
    const [a, b] = logs.records();
    assert.equal(a.experiment, 'e1');
    assert.equal(a.trial, undefined);
    assert.deepEqual(
      { experiment: b.experiment, trial: b.trial, attempt: b.attempt, worker: b.worker, error: b.error },
      { experiment: 'e1', trial: 't0003', attempt: 2, worker: 'host:42', error: 'boom' },
    );
    // base fields given to the factory
    const lines: string[] = [];
    createLogger({
      pretty: false,
      base: { worker: 'w9' },
      destination: { write: (l) => lines.push(l) },
    }).info('x');
    assert.equal((JSON.parse(lines[0]) as { worker: string }).worker, 'w9');
  });

  it('serializes errors under err with type, message and stack', () => {
    const logs = captureLogs();
    logs.logger.error({ err: new TypeError('bad thing') }, 'failed');
    const err = logs.records()[0].err as { type: string; message: string; stack: string };
    assert.equal(err.type, 'TypeError');
    assert.equal(err.message, 'bad thing');
    assert.match(err.stack, /TypeError: bad thing\n\s+at /);
  });

  it('pretty: a human-readable line (pino-pretty, written synchronously), not JSON', () => {
    const lines: string[] = [];
    const logger = createLogger({ pretty: true, destination: { write: (l) => lines.push(l) } });
    logger.child({ experiment: 'e1' }).warn({ trial: 't0001' }, 'trial failed');
    // Synchronous: the line is there as soon as the call returns.
    assert.equal(lines.length, 1);
    const text = lines.join('');
    assert.throws(() => JSON.parse(text));
    assert.match(text, /WARN/);
    assert.match(text, /trial failed/);
    assert.match(text, /"experiment":"e1"/);
    assert.match(text, /"trial":"t0001"/);
    assert.ok(text.endsWith('\n') && text.split('\n').length === 2, 'one line per record');
    assert.ok(!text.includes('\u001b['), 'no colours when not writing to a terminal');
  });

  it('levels: parseLogLevel and HPO_LOG_LEVEL accept the seven names (any case), reject others', () => {
    assert.equal(parseLogLevel(' DEBUG ', '--log-level'), 'debug');
    assert.equal(parseLogLevel('silent', '--log-level'), 'silent');
    assert.throws(
      () => parseLogLevel('verbose', '--log-level'),
      (err: unknown) =>
        err instanceof UsageError &&
        /--log-level: expected one of trace, debug, .*got "verbose"/.test(err.message),
    );
    assert.equal(logLevelFromEnv({}), 'info');
    assert.equal(logLevelFromEnv({ HPO_LOG_LEVEL: '' }), 'info');
    assert.equal(logLevelFromEnv({ HPO_LOG_LEVEL: 'warn' }), 'warn');
    assert.throws(() => logLevelFromEnv({ HPO_LOG_LEVEL: 'loud' }), /HPO_LOG_LEVEL: expected one of/);
  });
});

describe('RateLimitedLog', () => {
  it('logs a problem once per interval, then says how many were suppressed', async () => {
    const logs = captureLogs();
    const limited = new RateLimitedLog(logs.logger, { intervalMs: 30 });
    for (let i = 0; i < 3; i++) limited.report('rejected invalid message: v: bad', { subject: 'a' });
    limited.report('rejected invalid message: v: bad', { subject: 'b' });
    assert.deepEqual(
      logs.records().map((r) => [r.level, r.msg, r.subject]),
      [
        ['warn', 'rejected invalid message: v: bad', 'a'],
        ['warn', 'rejected invalid message: v: bad', 'b'],
      ],
    );
    await new Promise((r) => setTimeout(r, 40));
    limited.report('rejected invalid message: v: bad', { subject: 'a' });
    const last = logs.records().at(-1)!;
    assert.equal(last.msg, 'rejected invalid message: v: bad (and 2 more like it)');
    assert.equal(last.suppressed, 2);
    assert.equal(last.subject, 'a');
  });

  it('cuts a long message to 200 characters and logs at the level asked for', () => {
    const logs = captureLogs();
    new RateLimitedLog(logs.logger, { level: 'error' }).report('x'.repeat(5000));
    const [rec] = logs.records();
    assert.equal(rec.level, 'error');
    assert.equal(rec.msg.length, 200);
  });
});
