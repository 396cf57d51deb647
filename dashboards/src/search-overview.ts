/**
 * "hpo / Search overview": one experiment (picked from `hpo_trials`): trials by state, best so far, a
 * leaderboard, per-trial validation curves, trial durations. Metric names: docs/METRICS.md.
 */
import {
  bargauge,
  customVariable,
  dashboard,
  type ImportableDashboard,
  prom,
  promTable,
  queryVariable,
  stat,
  table,
  timeseries,
} from './grafana.js';

const EXP = 'experiment="$experiment"';

/**
 * +1 for an experiment whose goal is maximize, -1 for minimize, from `hpo_experiment_info{goal}`: the
 * leaderboard multiplies by it, takes the top `$top` (the best whatever the goal), and multiplies back.
 */
export const GOAL_SIGN =
  `(max by (experiment) (hpo_experiment_info{${EXP}, goal="maximize"})` +
  ` or -max by (experiment) (hpo_experiment_info{${EXP}, goal="minimize"}))`;

/**
 * The leaderboard: the best `$top` trials by the objective in the direction of the experiment's goal,
 * joined with each trial's parameters from `hpo_trial_info`. The right side keeps one info series per
 * trial (topk by trial, 1) so a trial whose state label just changed cannot make the join ambiguous.
 */
export const LEADERBOARD_EXPR =
  `(topk($top, hpo_trial_value{${EXP}} * on (experiment) group_left () ${GOAL_SIGN})` +
  ` * on (experiment) group_left () ${GOAL_SIGN})` +
  ` * on (experiment, trial_id) group_left (state, arch, optimizer, learning_rate, batch_size, params)` +
  ` topk by (experiment, trial_id) (1, hpo_trial_info{${EXP}})`;

export function searchOverview(): ImportableDashboard {
  return dashboard({
    uid: 'hpo-search-overview',
    title: 'hpo / Search overview',
    description: 'One experiment: trials by state, best so far, leaderboard, validation curves, durations.',
    tags: ['hpo'],
    linkTag: 'hpo',
    variables: [
      queryVariable('experiment', 'Experiment', 'label_values(hpo_trials, experiment)'),
      queryVariable('val_metric', 'Validation metric', `label_values(hpo_trial_metric{${EXP}}, metric)`, {
        regex: '/^val_/',
      }),
      customVariable('top', 'Leaderboard size', [
        ['10', '10'],
        ['20', '20'],
        ['5', '5'],
      ]),
    ],
    panels: [
      stat({
        title: 'Trials',
        description: 'Trials of the experiment in the store, all states.',
        gridPos: { x: 0, y: 0, w: 4, h: 4 },
        targets: [prom(`sum(hpo_trials{${EXP}})`, 'trials')],
      }),
      stat({
        title: 'Running',
        gridPos: { x: 4, y: 0, w: 4, h: 4 },
        targets: [prom(`sum(hpo_trials_running{${EXP}})`, 'running')],
      }),
      stat({
        title: 'Completed',
        gridPos: { x: 8, y: 0, w: 4, h: 4 },
        targets: [prom(`sum(hpo_trials{${EXP}, state="completed"})`, 'completed')],
      }),
      stat({
        title: 'Failed',
        gridPos: { x: 12, y: 0, w: 4, h: 4 },
        targets: [prom(`sum(hpo_trials{${EXP}, state="failed"})`, 'failed')],
      }),
      stat({
        title: 'Best so far',
        description: "Best objective among finished trials (the search file's metric.name).",
        gridPos: { x: 16, y: 0, w: 8, h: 4 },
        decimals: 4,
        targets: [prom(`hpo_best_value{${EXP}}`, '{{metric}}')],
      }),
      timeseries({
        title: 'Trials by state',
        gridPos: { x: 0, y: 4, w: 12, h: 8 },
        stack: true,
        targets: [prom(`sum by (state) (hpo_trials{${EXP}})`, '{{state}}')],
      }),
      timeseries({
        title: 'Best so far over time',
        gridPos: { x: 12, y: 4, w: 12, h: 8 },
        decimals: 4,
        targets: [prom(`hpo_best_value{${EXP}}`, 'best {{metric}}')],
      }),
      table({
        title: 'Leaderboard',
        description:
          "The best trials by the objective in the direction of the search's goal (hpo_experiment_info), with " +
          'their parameters; sorted by the objective, highest first (click the header to flip for a minimized metric). ' +
          "Finished trials beyond the exporter's --metrics-top are not exported; `hpo leaderboard` has them all.",
        gridPos: { x: 0, y: 12, w: 24, h: 10 },
        decimals: 4,
        targets: [promTable(LEADERBOARD_EXPR)],
        columns: {
          show: [
            ['trial_id', 'trial'],
            ['Value', 'objective'],
            ['arch', 'architecture'],
            ['optimizer', 'optimizer'],
            ['learning_rate', 'learning rate'],
            ['batch_size', 'batch size'],
            ['state', 'state'],
            ['params', 'parameters'],
          ],
          hide: ['Time', 'experiment', 'instance', 'job', '__name__'],
          sortBy: { header: 'objective' },
        },
      }),
      timeseries({
        title: 'Validation $val_metric per trial',
        description: 'Latest per-epoch validation metric of each trial (running ones and the top finished).',
        gridPos: { x: 0, y: 22, w: 12, h: 9 },
        decimals: 4,
        targets: [prom(`hpo_trial_metric{${EXP}, metric="$val_metric"}`, '{{trial_id}}')],
      }),
      timeseries({
        title: 'Epoch per trial',
        gridPos: { x: 12, y: 22, w: 12, h: 9 },
        targets: [prom(`hpo_trial_epoch{${EXP}}`, '{{trial_id}}')],
      }),
      timeseries({
        title: 'Trial duration by architecture',
        description:
          'Median and 90th percentile wall time of the trials of the experiment finished so far (by this ' +
          'orchestrator process). Cumulative rather than a rate: trials end minutes apart, so a rate window ' +
          'would be empty most of the time.',
        gridPos: { x: 0, y: 31, w: 12, h: 8 },
        unit: 's',
        targets: [
          prom(
            `histogram_quantile(0.5, sum by (le, arch) (hpo_trial_duration_seconds_bucket{${EXP}}))`,
            'p50 {{arch}}',
          ),
          prom(
            `histogram_quantile(0.9, sum by (le, arch) (hpo_trial_duration_seconds_bucket{${EXP}}))`,
            'p90 {{arch}}',
          ),
        ],
      }),
      bargauge({
        title: 'Mean trial duration by architecture and state',
        gridPos: { x: 12, y: 31, w: 12, h: 8 },
        unit: 's',
        targets: [
          prom(
            `sum by (arch, state) (hpo_trial_duration_seconds_sum{${EXP}}) / sum by (arch, state) (hpo_trial_duration_seconds_count{${EXP}})`,
            '{{arch}} {{state}}',
          ),
        ],
      }),
      timeseries({
        title: 'Trials ended per minute',
        gridPos: { x: 0, y: 39, w: 12, h: 7 },
        unit: 'suffix: trials/min',
        targets: [
          prom(`sum by (state) (rate(hpo_trials_ended_total{${EXP}}[$__rate_interval])) * 60`, '{{state}}'),
        ],
      }),
      timeseries({
        title: 'Dispatch latency',
        description:
          'From handing a trial of the experiment to the transport until a worker slot accepts it, over the ' +
          'trials finished so far (observed when the result arrives; cumulative, like the durations).',
        gridPos: { x: 12, y: 39, w: 12, h: 7 },
        unit: 's',
        targets: [
          prom(
            `histogram_quantile(0.9, sum by (le, transport) (hpo_dispatch_latency_seconds_bucket{${EXP}}))`,
            'p90 {{transport}}',
          ),
        ],
      }),
    ],
  });
}
