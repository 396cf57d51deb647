import assert from 'node:assert/strict';
import { Command } from 'commander';
import { checkSeed, isSeed } from '../shared/prng.js';
import { UsageError } from '../shared/errors.js';
import { backendOption } from '../cli/options/backend-option.js';
import { dataDirOption } from '../cli/options/data-options.js';
import { ruleValue, seedValue } from '../cli/options/option-values.js';
import { jsonOption } from '../cli/options/output-options.js';
import { seedOption } from '../cli/options/seed-option.js';

/** A command with the shared options that throws instead of exiting. */
function command(): Command {
  return new Command('x')
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: () => {} })
    .addOption(backendOption())
    .addOption(seedOption('a seed', 1))
    .addOption(dataDirOption())
    .addOption(jsonOption());
}

describe('shared CLI options', () => {
  it('one seed rule: isSeed, checkSeed and --seed accept [0, 2^32 - 1] and nothing else', () => {
    for (const ok of [0, 1, 4294967295]) {
      assert.ok(isSeed(ok));
      assert.equal(checkSeed(ok), ok);
      assert.equal(seedValue(String(ok)), ok);
    }
    for (const bad of [-1, 1.5, 4294967296, NaN]) {
      assert.ok(!isSeed(bad));
      assert.throws(() => checkSeed(bad), UsageError);
      assert.throws(
        () => seedValue(String(bad)),
        /^InvalidArgumentError: expected an integer between 0 and 4294967295\.$/,
      );
    }
    assert.ok(!isSeed('1'));
    assert.throws(() => seedValue(''), /expected an integer between 0 and 4294967295\./);
  });

  it('the builders give the defaults and parse the values', () => {
    assert.deepEqual(command().parse([], { from: 'user' }).opts(), { backend: 'auto', seed: 1 });
    const opts = command()
      .parse(['--backend', 'wasm', '--seed', '7', '--data-dir', '/d', '--json'], { from: 'user' })
      .opts();
    assert.deepEqual(opts, { backend: 'wasm', seed: 7, dataDir: '/d', json: true });
  });

  it('bad values are refused with what is allowed', () => {
    assert.throws(
      () => command().parse(['--backend', 'cuda'], { from: 'user' }),
      /argument 'cuda' is invalid\. expected one of: auto, tensorflow-gpu, tensorflow, wasm, cpu\./,
    );
    assert.throws(
      () => command().parse(['--seed', '-1'], { from: 'user' }),
      /argument '-1' is invalid\. expected an integer between 0 and 4294967295\./,
    );
  });

  it('ruleValue: a flag follows its task parameter rule, in the rule words', () => {
    const lr = ruleValue({ type: 'number', gt: 0 });
    assert.equal(lr('0.5'), 0.5);
    assert.throws(() => lr('0'), /^InvalidArgumentError: expected a number > 0\.$/);
    assert.throws(() => lr(''), /expected a number > 0\./);
    const size = ruleValue({ type: 'integer', gt: 0, le: 10 });
    assert.equal(size('10'), 10);
    assert.throws(() => size('11'), /expected an integer > 0 and <= 10\./);
    assert.throws(() => size('2.5'), /expected an integer > 0 and <= 10\./);
    const arch = ruleValue({ type: 'choice', choices: ['mlp', 'cnn'] });
    assert.equal(arch('cnn'), 'cnn');
    assert.throws(() => arch('vgg'), /expected one of: mlp, cnn\./);
  });
});
