/**
 * MLflow's search grammar, once: the lexer, the run/experiment parser and its SQL compiler, and the
 * registry/logged-model parser (a spec per searched object) and its SQL compiler. Tracking, the
 * registry and logged models all search through this module.
 */
export * from './lexer.js';
export {
  EXPERIMENT_FILTER_ATTRIBUTES,
  EXPERIMENT_ORDER_ATTRIBUTES,
  RUN_ATTRIBUTES,
  parseExperimentFilter,
  parseExperimentOrderBy,
  parseFilter,
  parseOrderBy,
  type Comparator,
  type FilterClause,
  type FilterEntity,
  type OrderClause,
} from './run-filter.js';
export { MODEL_VERSION_SEARCH, REGISTERED_MODEL_SEARCH, parseSearchFilter, parseSearchOrderBy, type SearchClause, type SearchOrder, type SearchSpec } from './registry-filter.js';
export { compareSql } from './compare-sql.js';
