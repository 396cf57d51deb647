/** For bench:search: best-so-far against budget, one line per variant, as SVG (vega-lite → vega, headless). */
import { writeFileSync } from 'node:fs';
import * as vega from 'vega';
import * as vl from 'vega-lite';

export interface PlotSeries {
  variant: string;
  points: { budget: number; best: number | null }[];
}

export async function writeCurvePlot(
  file: string,
  title: string,
  metric: string,
  series: PlotSeries[],
): Promise<void> {
  const values = series.flatMap((s) =>
    s.points
      .filter((p) => p.best !== null)
      .map((p) => ({ budget: p.budget, best: p.best, variant: s.variant })),
  );
  const spec: vl.TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 520,
    height: 300,
    data: { values },
    mark: { type: 'line', interpolate: 'step-after' },
    encoding: {
      x: { field: 'budget', type: 'quantitative', title: 'budget spent (epoch-equivalents)' },
      y: {
        field: 'best',
        type: 'quantitative',
        title: `mean best ${metric} so far`,
        scale: { zero: false },
      },
      color: { field: 'variant', type: 'nominal', title: 'search' },
    },
  };
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  writeFileSync(file, await view.toSVG());
  view.finalize();
}
