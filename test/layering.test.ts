/**
 * The layering walls of docs/ARCHITECTURE.md, enforced by eslint.config.js: each forbidden import fails
 * the lint, each allowed one passes. Runs ESLint's API with the project's own config over small sources
 * placed (by file name) in each folder.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function restricted(file: string, specifier: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: ROOT });
  const code = `import { x } from '${specifier}';\nexport const y = x;\n`;
  const [result] = await eslint.lintText(code, { filePath: `${ROOT}${file}` });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layering lint rule', function () {
  this.timeout(60_000);

  const forbidden: [string, string][] = [
    ['orchestrator/core/fixture.ts', '../../worker/errors.js'],
    ['orchestrator/transport/nats/fixture.ts', '../../../worker/nats/nats-worker.js'],
    ['orchestrator/fixture.ts', '../cli/main.js'],
    ['orchestrator/fixture.ts', '../bench/stats.js'],
    ['worker/tasks/fixture.ts', '../../orchestrator/search-space/task-catalog.js'],
    ['worker/fixture.ts', '../cli/plain-table.js'],
    ['shared/fixture.ts', '../worker/errors.js'],
    ['shared/protocol/fixture.ts', '../../orchestrator/store/index.js'],
    ['cli/commands/fixture.ts', '../../bench/stats.js'],
    ['cli/fixture.ts', '../test/helpers/cli.js'],
    // The web viewer: shared/ and the public faces of the store, search-space and report, nothing more.
    ['viewer/fixture.ts', '../orchestrator/core/index.js'],
    ['viewer/fixture.ts', '../orchestrator/store/sqlite-rows.js'],
    ['viewer/fixture.ts', '../orchestrator/store/../core/index.js'],
    ['viewer/fixture.ts', '../orchestrator/search-space/hyperband.js'],
    ['viewer/fixture.ts', '../orchestrator/index.js'],
    ['viewer/fixture.ts', '../worker/pool/index.js'],
    ['viewer/fixture.ts', '../cli/main.js'],
    ['viewer/fixture.ts', '../bench/stats.js'],
    ['viewer/fixture.ts', '../test/helpers/cli.js'],
    ['viewer/fixture.ts', '../dashboards/src/index.js'],
    ['orchestrator/core/fixture.ts', '../../viewer/index.js'],
    ['worker/fixture.ts', '../viewer/index.js'],
    ['shared/fixture.ts', '../viewer/index.js'],
  ];
  for (const [file, specifier] of forbidden) {
    it(`rejects ${specifier} from ${file}`, async () => {
      const messages = await restricted(file, specifier);
      assert.equal(messages.length, 1, `expected one restriction, got ${JSON.stringify(messages)}`);
      assert.match(messages[0], /off limits here/);
    });
  }

  const allowed: [string, string][] = [
    ['orchestrator/core/fixture.ts', '../../shared/errors.js'],
    ['orchestrator/core/fixture.ts', '../store/index.js'],
    ['worker/nats/fixture.ts', '../../shared/nats/index.js'],
    ['worker/nats/fixture.ts', './nats-worker.js'],
    ['shared/nats/fixture.ts', '../protocol/index.js'],
    ['cli/commands/fixture.ts', '../../orchestrator/core/index.js'],
    ['cli/commands/fixture.ts', '../../worker/pool/index.js'],
    ['bench/dispatch/fixture.ts', '../../worker/nats/index.js'],
    ['test/fixture.ts', '../orchestrator/core/index.js'],
    ['viewer/fixture.ts', '../shared/errors.js'],
    ['viewer/fixture.ts', '../orchestrator/store/index.js'],
    ['viewer/fixture.ts', '../orchestrator/search-space/index.js'],
    ['viewer/fixture.ts', '../orchestrator/report/index.js'],
    ['viewer/fixture.ts', './reader.js'],
    ['cli/commands/fixture.ts', '../../viewer/index.js'],
  ];
  for (const [file, specifier] of allowed) {
    it(`allows ${specifier} from ${file}`, async () => {
      assert.deepEqual(await restricted(file, specifier), []);
    });
  }
});

/** The max-lines-per-function messages ESLint gives a function of `lines` body lines placed at `file`. */
async function tooLong(file: string, lines: number): Promise<string[]> {
  const eslint = new ESLint({ cwd: ROOT });
  const body = Array.from({ length: lines }, (_, i) => `  x += ${i};`).join('\n');
  const code = `export function f(): number {\n  let x = 0;\n${body}\n  return x;\n}\n`;
  const [result] = await eslint.lintText(code, { filePath: `${ROOT}${file}` });
  return result.messages.filter((m) => m.ruleId === 'max-lines-per-function').map((m) => m.message);
}

describe('function length lint rule (issue 26: at most 80 lines in the shipped code)', function () {
  this.timeout(60_000);

  for (const file of [
    'orchestrator/core/fixture.ts',
    'worker/pool/fixture.ts',
    'shared/fixture.ts',
    'cli/commands/fixture.ts',
    'viewer/fixture.ts',
  ]) {
    it(`refuses an 81-line function in ${file}, allows an 80-line one`, async () => {
      assert.equal((await tooLong(file, 77)).length, 1, '81 lines');
      assert.deepEqual(await tooLong(file, 76), [], '80 lines');
    });
  }

  it('exempts the wasm SIMD emitters, and nothing else of worker/backends/wasm', async () => {
    assert.deepEqual(await tooLong('worker/backends/wasm/simd-max-pool-grad.ts', 200), []);
    assert.equal((await tooLong('worker/backends/wasm/conv2d-backprop-filter.ts', 200)).length, 1);
  });
});
