/** The dashboards, by the file name `npm run dashboards` writes them to under dashboards/. */
import type { Dashboard } from '@grafana/schema';
import { searchOverview } from './search-overview.js';
import { workers } from './workers.js';

export { PROMETHEUS, SCHEMA_VERSION, type PrometheusQuery } from './grafana.js';

export function allDashboards(): Record<string, Dashboard> {
  return {
    'search-overview.json': searchOverview(),
    'workers.json': workers(),
  };
}
