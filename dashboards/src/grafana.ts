/**
 * Typed building blocks for the dashboards. Every panel is a `@grafana/schema` `Panel` whose `options`
 * and `fieldConfig.defaults.custom` are the panel plugin's own generated types (timeseries, table, stat,
 * bargauge), and whose targets are Prometheus queries; `dashboard()` returns a schema `Dashboard`. So tsc
 * rejects a misspelt option, a wrong enum value or a target without `expr`.
 */
import {
  BarGaugeDisplayMode,
  BarGaugeNamePlacement,
  BarGaugeSizing,
  BarGaugeValueMode,
  BigValueColorMode,
  BigValueGraphMode,
  BigValueJustifyMode,
  BigValueTextMode,
  type Dashboard,
  type DataQuery,
  type DataSourceRef,
  type FieldConfigSource,
  type GridPos,
  LegendDisplayMode,
  type Panel,
  PercentChangeColorMode,
  SortOrder,
  StackingMode,
  TableCellHeight,
  TooltipDisplayMode,
  type VariableModel,
  VariableRefresh,
  VariableSort,
  VisibilityMode,
  VizOrientation,
} from '@grafana/schema';
import type * as BarGauge from '@grafana/schema/dist/esm/raw/composable/bargauge/panelcfg/x/BarGaugePanelCfg_types.gen';
import type * as Stat from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';
import type * as Table from '@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen';
import type * as TimeSeries from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';

/** The dashboards' schema version (Grafana 12.x; `defaultDashboard.schemaVersion` of @grafana/schema). */
export const SCHEMA_VERSION = 42;

/**
 * Every panel's data source: the dashboard's `datasource` variable (any Prometheus of the Grafana it is
 * imported into; the import dialog asks for it through `__inputs`, and a provisioned copy uses the default
 * Prometheus, deploy/grafana/provisioning/datasources/prometheus.yml).
 */
export const PROMETHEUS: DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

/** The import input Grafana asks for when the JSON is imported (Dashboards > New > Import). */
export const DATASOURCE_INPUT = 'DS_PROMETHEUS';

/** The data source picker: Prometheus data sources, the imported input's choice by default. */
export function datasourceVariable(): VariableModel {
  return {
    type: 'datasource',
    name: 'datasource',
    label: 'Data source',
    query: 'prometheus',
    current: { text: `\${${DATASOURCE_INPUT}}`, value: `\${${DATASOURCE_INPUT}}`, selected: true },
    options: [],
    multi: false,
    includeAll: false,
    refresh: VariableRefresh.onDashboardLoad,
  };
}

/** A dashboard as exported for import: its `__inputs` name the data source to pick. */
export type ImportableDashboard = Dashboard & {
  __inputs: Array<{
    name: string;
    label: string;
    description: string;
    type: 'datasource';
    pluginId: string;
    pluginName: string;
  }>;
  __requires: Array<{ type: string; id: string; name: string; version: string }>;
};

/**
 * A Prometheus panel query. @grafana/schema has the common `DataQuery` but not the Prometheus plugin's
 * query (that lives in Grafana's prometheus package), so its fields used here are declared here.
 */
export interface PrometheusQuery extends DataQuery {
  expr: string;
  legendFormat?: string;
  /** `table` for instant table queries (one row per series, labels as columns). */
  format?: 'time_series' | 'table' | 'heatmap';
  instant?: boolean;
  range?: boolean;
  editorMode?: 'code' | 'builder';
}

/** A panel of one plugin type, with that plugin's options and custom field config. */
export type TypedPanel<Type extends string, Options, Custom> = Omit<
  Panel<Options, Custom>,
  'type' | 'options' | 'targets' | 'fieldConfig'
> & {
  type: Type;
  options: Options;
  fieldConfig: FieldConfigSource<Custom>;
  targets: PrometheusQuery[];
  gridPos: GridPos;
};

export type TimeSeriesPanel = TypedPanel<'timeseries', TimeSeries.Options, TimeSeries.FieldConfig>;
export type TablePanel = TypedPanel<'table', Table.Options, Partial<Table.FieldConfig>>;
export type StatPanel = TypedPanel<'stat', Stat.Options, Record<string, never>>;
export type BarGaugePanel = TypedPanel<'bargauge', BarGauge.Options, Record<string, never>>;
export type HpoPanel = TimeSeriesPanel | TablePanel | StatPanel | BarGaugePanel;

/** What every panel builder takes. */
export interface PanelOptions {
  title: string;
  description?: string;
  gridPos: GridPos;
  targets: PrometheusQuery[];
  unit?: string;
  min?: number;
  max?: number;
  decimals?: number;
}

/** A query; refId is assigned by the panel builders (A, B, ...). */
export function prom(
  expr: string,
  legendFormat?: string,
  extra: Partial<PrometheusQuery> = {},
): PrometheusQuery {
  return {
    refId: '',
    datasource: PROMETHEUS,
    editorMode: 'code',
    expr,
    ...(legendFormat === undefined ? {} : { legendFormat }),
    range: true,
    ...extra,
  };
}

/** An instant query whose result is one table row per series. */
export function promTable(expr: string): PrometheusQuery {
  return prom(expr, undefined, { format: 'table', instant: true, range: false });
}

function withRefIds(targets: PrometheusQuery[]): PrometheusQuery[] {
  return targets.map((t, i) => ({ ...t, refId: String.fromCharCode(65 + i) }));
}

function base(o: PanelOptions) {
  return {
    title: o.title,
    ...(o.description === undefined ? {} : { description: o.description }),
    datasource: PROMETHEUS,
    gridPos: o.gridPos,
    targets: withRefIds(o.targets),
  };
}

function defaults(o: PanelOptions) {
  return {
    ...(o.unit === undefined ? {} : { unit: o.unit }),
    ...(o.min === undefined ? {} : { min: o.min }),
    ...(o.max === undefined ? {} : { max: o.max }),
    ...(o.decimals === undefined ? {} : { decimals: o.decimals }),
  };
}

export function timeseries(o: PanelOptions & { stack?: boolean; legendCalcs?: string[] }): TimeSeriesPanel {
  return {
    ...base(o),
    type: 'timeseries',
    options: {
      legend: {
        calcs: o.legendCalcs ?? [],
        displayMode: o.legendCalcs ? LegendDisplayMode.Table : LegendDisplayMode.List,
        placement: 'bottom',
        showLegend: true,
      },
      tooltip: { mode: TooltipDisplayMode.Multi, sort: SortOrder.Descending },
    },
    fieldConfig: {
      defaults: {
        ...defaults(o),
        custom: {
          lineWidth: 1,
          fillOpacity: o.stack ? 30 : 0,
          showPoints: VisibilityMode.Never,
          spanNulls: false,
          ...(o.stack ? { stacking: { mode: StackingMode.Normal, group: 'A' } } : {}),
        },
      },
      overrides: [],
    },
  };
}

export function stat(o: PanelOptions & { calc?: string }): StatPanel {
  return {
    ...base(o),
    type: 'stat',
    options: {
      reduceOptions: { calcs: [o.calc ?? 'lastNotNull'], fields: '', values: false },
      orientation: VizOrientation.Auto,
      colorMode: BigValueColorMode.Value,
      graphMode: BigValueGraphMode.Area,
      justifyMode: BigValueJustifyMode.Auto,
      textMode: BigValueTextMode.ValueAndName,
      percentChangeColorMode: PercentChangeColorMode.Standard,
      showPercentChange: false,
      wideLayout: true,
    },
    fieldConfig: { defaults: defaults(o), overrides: [] },
  };
}

export function bargauge(o: PanelOptions): BarGaugePanel {
  return {
    ...base(o),
    type: 'bargauge',
    options: {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      orientation: VizOrientation.Horizontal,
      displayMode: BarGaugeDisplayMode.Gradient,
      legend: {
        calcs: [],
        displayMode: LegendDisplayMode.List,
        placement: 'bottom',
        showLegend: false,
      },
      maxVizHeight: 300,
      minVizHeight: 16,
      minVizWidth: 8,
      namePlacement: BarGaugeNamePlacement.Auto,
      showUnfilled: true,
      sizing: BarGaugeSizing.Auto,
      valueMode: BarGaugeValueMode.Color,
    },
    fieldConfig: { defaults: defaults(o), overrides: [] },
  };
}

/** Renames and order of table columns (the `organize` transformation). */
export interface TableColumns {
  /** Columns to show, in order, with their header. */
  show: Array<[field: string, header: string]>;
  /** Columns to hide (labels a query returns that the table does not need). */
  hide: string[];
  /** Sort by this header, descending unless `ascending`. */
  sortBy?: { header: string; ascending?: boolean };
}

export function table(o: PanelOptions & { columns: TableColumns }): TablePanel {
  const { columns } = o;
  return {
    ...base(o),
    type: 'table',
    options: {
      showHeader: true,
      frameIndex: 0,
      cellHeight: TableCellHeight.Sm,
      ...(columns.sortBy
        ? { sortBy: [{ displayName: columns.sortBy.header, desc: !columns.sortBy.ascending }] }
        : {}),
    },
    fieldConfig: { defaults: { ...defaults(o), custom: { filterable: true } }, overrides: [] },
    transformations: [
      {
        id: 'organize',
        options: {
          excludeByName: Object.fromEntries(columns.hide.map((f) => [f, true])),
          indexByName: Object.fromEntries(columns.show.map(([f], i) => [f, i])),
          renameByName: Object.fromEntries(columns.show.map(([f, h]) => [f, h])),
        },
      },
    ],
  };
}

/** A query variable over Prometheus label values. */
export function queryVariable(
  name: string,
  label: string,
  query: string,
  opts: { multi?: boolean; includeAll?: boolean; regex?: string } = {},
): VariableModel {
  return {
    type: 'query',
    name,
    label,
    datasource: PROMETHEUS,
    query,
    refresh: VariableRefresh.onTimeRangeChanged,
    sort: VariableSort.alphabeticalAsc,
    multi: opts.multi ?? false,
    includeAll: opts.includeAll ?? false,
    ...(opts.includeAll ? { allValue: '.*' } : {}),
    ...(opts.regex ? { regex: opts.regex } : {}),
    options: [],
  };
}

/** A variable with fixed choices, `text : value` pairs; the first is the default. */
export function customVariable(
  name: string,
  label: string,
  choices: Array<[text: string, value: string]>,
): VariableModel {
  const [first] = choices;
  return {
    type: 'custom',
    name,
    label,
    query: choices.map(([t, v]) => `${t} : ${v}`).join(','),
    current: { text: first[0], value: first[1], selected: true },
    options: choices.map(([t, v], i) => ({ text: t, value: v, selected: i === 0 })),
    multi: false,
    includeAll: false,
  };
}

/**
 * The schema's generic `Panel` keeps options and custom field config as plain records; the typed panel's
 * interfaces are copied into such records here (the checks already happened on the typed panel).
 */
function toPanel(p: HpoPanel, id: number): Panel {
  const { custom, ...rest } = p.fieldConfig.defaults;
  return {
    id,
    ...p,
    options: { ...p.options },
    fieldConfig: {
      ...p.fieldConfig,
      defaults: { ...rest, ...(custom === undefined ? {} : { custom: { ...custom } }) },
    },
    targets: p.targets.map((t) => ({ ...t })),
  };
}

export interface DashboardOptions {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  variables: VariableModel[];
  panels: HpoPanel[];
  /** Links to the other dashboards (by tag). */
  linkTag: string;
}

export function dashboard(o: DashboardOptions): ImportableDashboard {
  return {
    __inputs: [
      {
        name: DATASOURCE_INPUT,
        label: 'Prometheus',
        description: 'The Prometheus that scrapes hpo (docs/METRICS.md)',
        type: 'datasource',
        pluginId: 'prometheus',
        pluginName: 'Prometheus',
      },
    ],
    __requires: [
      { type: 'grafana', id: 'grafana', name: 'Grafana', version: '12.0.0' },
      { type: 'datasource', id: 'prometheus', name: 'Prometheus', version: '1.0.0' },
    ],
    uid: o.uid,
    title: o.title,
    description: o.description,
    tags: o.tags,
    editable: true,
    graphTooltip: 1,
    refresh: '10s',
    schemaVersion: SCHEMA_VERSION,
    time: { from: 'now-1h', to: 'now' },
    timezone: 'browser',
    fiscalYearStartMonth: 0,
    liveNow: false,
    links: [
      {
        title: 'hpo dashboards',
        type: 'dashboards',
        tags: [o.linkTag],
        asDropdown: true,
        includeVars: false,
        keepTime: true,
        targetBlank: false,
        icon: 'external link',
        tooltip: '',
      },
    ],
    templating: { list: [datasourceVariable(), ...o.variables] },
    annotations: { list: [] },
    // Panel ids in layout order.
    panels: o.panels.map((p, i) => toPanel(p, i + 1)),
  };
}
