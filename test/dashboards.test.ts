/**
 * The dashboards: the committed dashboards/*.json are exactly what `npm run dashboards` generates from
 * dashboards/src/, every panel queries Prometheus by the provisioned uid, and the TypeScript types reject
 * a malformed panel (compiled here with the TypeScript compiler API).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { strict as assert } from 'node:assert';
import ts from 'typescript';
import { allDashboards, DATASOURCE_INPUT, PROMETHEUS, SCHEMA_VERSION } from '../dashboards/src/index.js';
import { DASHBOARDS_DIR, renderDashboards } from '../dashboards/src/generate.js';

interface JsonPanel {
  id: number;
  type: string;
  title: string;
  datasource: { uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets: Array<{ refId: string; expr: string; datasource: { uid: string } }>;
}

describe('dashboards', function () {
  this.timeout(120_000);

  it('the committed JSON is what `npm run dashboards` generates', async () => {
    const rendered = await renderDashboards();
    const committed = readdirSync(DASHBOARDS_DIR).filter((f) => f.endsWith('.json'));
    assert.deepEqual(committed.sort(), Object.keys(rendered).sort());
    for (const [file, text] of Object.entries(rendered)) {
      assert.equal(
        readFileSync(join(DASHBOARDS_DIR, file), 'utf8'),
        text,
        `dashboards/${file} differs from dashboards/src: run npm run dashboards`,
      );
    }
  });

  it('has the issue-5 panels, all on the provisioned Prometheus, laid out without overlaps', () => {
    const dashboards = allDashboards();
    const titles = (file: string) => (dashboards[file].panels as JsonPanel[]).map((p) => p.title);
    assert.deepEqual(
      dashboards['search-overview.json'].templating!.list!.map((v) => [v.name, v.query]).slice(1, 2),
      [['experiment', 'label_values(hpo_trials, experiment)']],
    );
    for (const t of [
      'Trials by state',
      'Best so far over time',
      'Leaderboard',
      'Trial duration by architecture',
    ])
      assert.ok(titles('search-overview.json').includes(t), t);
    assert.ok(titles('search-overview.json').some((t) => t.startsWith('Validation')));
    for (const t of [
      'Busy slots per worker',
      'Training images/s per worker',
      'Epoch time by architecture',
      'tfjs memory per worker',
      'Retries',
      'Errors',
      'GPU utilisation',
      'GPU memory',
      'Trial threads by device',
    ])
      assert.ok(titles('workers.json').includes(t), t);

    for (const [file, dash] of Object.entries(dashboards)) {
      assert.equal(dash.schemaVersion, SCHEMA_VERSION, file);
      // Importable into any Grafana: a data source input and picker, no hard-coded data source uid.
      assert.deepEqual(
        dash.__inputs.map((i) => [i.name, i.type, i.pluginId]),
        [[DATASOURCE_INPUT, 'datasource', 'prometheus']],
      );
      const ds = dash.templating!.list![0];
      assert.deepEqual([ds.type, ds.name, ds.query], ['datasource', 'datasource', 'prometheus']);
      assert.equal(PROMETHEUS.uid, '${datasource}');
      const panels = dash.panels as JsonPanel[];
      assert.deepEqual(
        panels.map((p) => p.id),
        panels.map((_, i) => i + 1),
      );
      for (const p of panels) {
        assert.equal(p.datasource.uid, PROMETHEUS.uid, `${file} ${p.title}`);
        assert.ok(p.targets.length > 0, `${file} ${p.title} has queries`);
        for (const t of p.targets) {
          assert.equal(t.datasource.uid, PROMETHEUS.uid);
          assert.match(t.expr, /hpo_|process_|nodejs_/, `${file} ${p.title}`);
        }
        assert.ok(p.gridPos.x + p.gridPos.w <= 24, `${file} ${p.title} fits the 24-column grid`);
      }
      // No two panels share a grid cell.
      const cells = new Set<string>();
      for (const p of panels)
        for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++)
          for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
            const key = `${x},${y}`;
            assert.ok(!cells.has(key), `${file}: ${p.title} overlaps another panel at ${key}`);
            cells.add(key);
          }
    }
  });

  it('the types reject a malformed panel and accept a well-formed one', () => {
    // A scratch module next to the compiled tree, importing the dashboard sources as the build does.
    const root = join(DASHBOARDS_DIR, '..');
    const dir = join(root, 'dist', 'typecheck-fixture');
    mkdirSync(dir, { recursive: true });
    const src = (body: string) =>
      `import { prom, stat, timeseries } from '../../dashboards/src/grafana.js';\n` +
      `export const panels = [${body}];\n`;
    const good = `timeseries({ title: 't', gridPos: { x: 0, y: 0, w: 1, h: 1 }, targets: [prom('up')] })`;
    const TS = `timeseries({ title: 't', gridPos: { x: 0, y: 0, w: 1, h: 1 }, targets: [] })`;
    const ST = `stat({ title: 's', gridPos: { x: 0, y: 0, w: 1, h: 1 }, targets: [] })`;
    const bad: Array<[body: string, error: RegExp]> = [
      // a target without expr
      [
        `timeseries({ title: 't', gridPos: { x: 0, y: 0, w: 1, h: 1 }, targets: [{ refId: 'A' }] })`,
        /'expr' is missing/,
      ],
      // a value the stat panel's colorMode does not have
      [
        `{ ...${ST}, options: { ...${ST}.options, colorMode: 'rainbow' } } satisfies ReturnType<typeof stat>`,
        /'"rainbow"' is not assignable to type 'BigValueColorMode'/,
      ],
      // a legend placement that does not exist
      [
        `{ ...${TS}, options: { ...${TS}.options, legend: { ...${TS}.options.legend, placement: 'top' } } } satisfies ReturnType<typeof timeseries>`,
        /'"top"' is not assignable to type 'LegendPlacement'/,
      ],
      // a panel without gridPos
      [
        `(() => { const { gridPos: _g, ...p } = ${TS}; return p satisfies ReturnType<typeof timeseries>; })()`,
        /'gridPos' is missing/,
      ],
    ];
    const check = (body: string): string[] => {
      const file = join(dir, 'fixture.ts');
      writeFileSync(file, src(body));
      const program = ts.createProgram([file], {
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        target: ts.ScriptTarget.ES2022,
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: [],
      });
      return ts
        .getPreEmitDiagnostics(program)
        .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    };
    try {
      assert.deepEqual(check(good), []);
      for (const [body, error] of bad) {
        const errors = check(body);
        assert.equal(errors.length, 1, `${body}\n${errors.join('\n')}`);
        assert.match(errors[0], error);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
