/**
 * Issue 25 item 7, what a new user hits at once: `--help` of every command reads as words (no
 * `{"kind":"none"}`, `[object …]`, `[]`, no default said twice), `--version` prints the version of
 * package.json, and `npm start` leaves no untracked database in the checkout.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { buildProgram } from '../cli/main.js';
import { DEFAULT_DB } from '../cli/options/store-options.js';
import { lingerValue, uiLingerSeconds } from '../cli/commands/linger.js';
import { runHpo } from './helpers/cli.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const packageJson = () =>
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
    scripts: Record<string, string>;
  };

/** Every command of the program, subcommands included, with its full name (`hpo data check`). */
function allCommands(cmd: Command, path: string[] = []): { name: string; cmd: Command }[] {
  const name = [...path, cmd.name()];
  return [{ name: name.join(' '), cmd }, ...cmd.commands.flatMap((c) => allCommands(c, name))];
}

describe('hpo --help and --version (issue 25 item 7)', () => {
  it('no help line of any command shows a raw object, an empty list or a default said twice', () => {
    const problems: string[] = [];
    const commands = allCommands(buildProgram());
    assert.ok(commands.length > 15, `walked ${commands.length} commands`);
    for (const { name, cmd } of commands) {
      // What `hpo … --help` prints (the same text commander writes on --help).
      const text = cmd.helpInformation();
      for (const bad of ['[object', '{"', '(default: [])', '(default: {'])
        if (text.includes(bad)) problems.push(`${name} --help shows ${bad}`);
      const help = cmd.createHelp();
      for (const option of help.visibleOptions(cmd)) {
        const described = help.optionDescription(option);
        const defaults = described.match(/\(default\b/g)?.length ?? 0;
        if (defaults > 1) problems.push(`${name} ${option.flags}: ${described}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('hpo --version prints the version in package.json and exits 0', async () => {
    const pkg = packageJson();
    for (const flag of ['--version', '-V']) {
      const r = await runHpo([flag]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), pkg.version);
    }
  });

  it('hpo search --help, as a user runs it, shows the defaults in words', async () => {
    const r = await runHpo(['search', '--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /--save-models <policy>[\s\S]*\(default: none\)/);
    assert.match(r.stdout, /--max-grid <n>[^-]*\(default: 100000\)/);
    assert.doesNotMatch(r.stdout, /\{"kind"/);
  });

  it('the database npm start writes in the checkout (and its side files, models) is git-ignored', function () {
    const start = packageJson().scripts.start;
    assert.doesNotMatch(start, /--db\b/, 'npm start uses the default database');
    const db = DEFAULT_DB.replace(/^\.\//, '');
    const paths = [db, `${db}-wal`, `${db}-shm`, 'hpo-models/q/t0000/model.json'];
    let ignored: string;
    try {
      // --no-index: the paths need not exist; exit 1 when none is ignored.
      ignored = execFileSync('git', ['check-ignore', '--no-index', ...paths], {
        cwd: ROOT,
        encoding: 'utf8',
      });
    } catch (err) {
      const e = err as { status?: number; code?: string; stdout?: string };
      if (e.code === 'ENOENT' || e.status === 128) this.skip(); // no git, or not a checkout
      ignored = e.stdout ?? '';
    }
    assert.deepEqual(ignored.trim().split('\n').filter(Boolean), paths);
  });

  it('the dashboard after a search: until Ctrl-C on a terminal, not at all without one, or as --ui-linger says', () => {
    assert.equal(uiLingerSeconds(undefined, true), Infinity, 'npm start in a terminal keeps the page');
    assert.equal(uiLingerSeconds(undefined, false), 0, 'CI and scripts never hang');
    assert.equal(uiLingerSeconds(lingerValue('10m'), false), 600);
    assert.equal(uiLingerSeconds(lingerValue('0'), true), 0);
    assert.equal(uiLingerSeconds(lingerValue('forever'), false), Infinity);
    for (const bad of ['-1', 'soon', '']) assert.throws(() => lingerValue(bad), /expected a duration/);
  });
});
