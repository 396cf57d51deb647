/** The dashboards, by the file name `npm run dashboards` writes them to under dashboards/. */
import { searchOverview } from './search-overview.js';
import { workers } from './workers.js';

import type { ImportableDashboard } from './grafana.js';

export {
  DATASOURCE_INPUT,
  PROMETHEUS,
  SCHEMA_VERSION,
  type ImportableDashboard,
  type PrometheusQuery,
} from './grafana.js';

export function allDashboards(): Record<string, ImportableDashboard> {
  return {
    'search-overview.json': searchOverview(),
    'workers.json': workers(),
  };
}
