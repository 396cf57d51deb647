export { startDashboard, type Dashboard, type DashboardOptions } from './server.js';
export { ChangeFeed, type ChangeEvent } from './change-feed.js';
export {
  IMPORTANCE_METHOD,
  parameterImportance,
  searchedParams,
  type ImportanceAnswer,
} from './importance.js';
export { permutationImportance } from './random-forest.js';
