import { describeToken, filterError, tokenizeSearch, TokenCursor, readComparator, readEntityKey, readOrderDirection, readValue, type SearchComparator } from './lexer.js';

/**
 * Parser for the run search grammar (MLflow's): clauses joined by AND, each
 * `<entity>.<key> <comparator> <value>` where entity is metrics, params, tags or attributes
 * (with the usual short forms metric/param/tag/attribute/attr/run). Keys with spaces or dots are
 * quoted with backticks or double quotes. Values: numbers for metrics and numeric attributes,
 * quoted strings otherwise, and `(...)` lists for IN / NOT IN.
 */
export type FilterEntity = 'metric' | 'param' | 'tag' | 'attribute';
export type Comparator = SearchComparator;

export interface FilterClause {
  entity: FilterEntity;
  key: string;
  comparator: Comparator;
  value: string | number | Array<string | number>;
}

export interface OrderClause {
  entity: FilterEntity;
  key: string;
  ascending: boolean;
}

/** Attributes a filter or order may name, with whether they compare as numbers. */
export const RUN_ATTRIBUTES: Record<string, { column: string; numeric: boolean }> = {
  run_id: { column: 'run_uuid', numeric: false },
  run_name: { column: 'name', numeric: false },
  status: { column: 'status', numeric: false },
  user_id: { column: 'user_id', numeric: false },
  artifact_uri: { column: 'artifact_uri', numeric: false },
  lifecycle_stage: { column: 'lifecycle_stage', numeric: false },
  start_time: { column: 'start_time', numeric: true },
  end_time: { column: 'end_time', numeric: true },
  created: { column: 'start_time', numeric: true },
  Created: { column: 'start_time', numeric: true },
};

/** Experiment attributes a filter may name (MLflow's set); bare names such as `name` mean attributes. */
export const EXPERIMENT_FILTER_ATTRIBUTES: Record<string, { column: string; numeric: boolean }> = {
  name: { column: 'name', numeric: false },
  creation_time: { column: 'creation_time', numeric: true },
  last_update_time: { column: 'last_update_time', numeric: true },
};

/** Experiment attributes an order_by may name. */
export const EXPERIMENT_ORDER_ATTRIBUTES: Record<string, { column: string; numeric: boolean }> = {
  ...EXPERIMENT_FILTER_ATTRIBUTES,
  experiment_id: { column: 'experiment_id', numeric: true },
};

/** What one search grammar accepts: its attributes and the entities besides attributes. */
interface Grammar {
  attributes: Record<string, { column: string; numeric: boolean }>;
  entities: ReadonlySet<FilterEntity>;
}

const RUN_GRAMMAR: Grammar = { attributes: RUN_ATTRIBUTES, entities: new Set(['metric', 'param', 'tag', 'attribute']) };
const EXPERIMENT_FILTER_GRAMMAR: Grammar = { attributes: EXPERIMENT_FILTER_ATTRIBUTES, entities: new Set(['tag', 'attribute']) };
const EXPERIMENT_ORDER_GRAMMAR: Grammar = { attributes: EXPERIMENT_ORDER_ATTRIBUTES, entities: new Set(['attribute']) };

const ENTITY_ALIASES: Record<string, FilterEntity> = {
  metric: 'metric',
  metrics: 'metric',
  param: 'param',
  params: 'param',
  parameter: 'param',
  parameters: 'param',
  tag: 'tag',
  tags: 'tag',
  attribute: 'attribute',
  attributes: 'attribute',
  attr: 'attribute',
  run: 'attribute',
};


/**
 * Reads `entity.key` where key may span several dotted identifier segments. A bare name is an
 * attribute when the grammar knows it (`start_time`, or `name` for experiments), as in MLflow.
 */
function readIdentifier(cur: TokenCursor, what: string, grammar: Grammar): { entity: FilterEntity; key: string } {
  const first = cur.next();
  if (first?.t !== 'ident') throw filterError(`expected ${what} such as metrics.f1, found ${describeToken(first)}`);
  let entity: FilterEntity;
  let key: string;
  const dot = cur.peek();
  if (dot?.t === 'punct' && dot.v === '.') {
    const ent = ENTITY_ALIASES[first.v.toLowerCase()];
    if (ent === undefined || !grammar.entities.has(ent)) {
      throw filterError(`unknown entity '${first.v}': use ${[...grammar.entities].map((e) => `${PREFIX[e]}.`).join(', ')}`);
    }
    entity = ent;
    cur.next();
    key = readEntityKey(cur, first.v);
  } else if (Object.hasOwn(grammar.attributes, first.v)) {
    entity = 'attribute';
    key = first.v;
  } else {
    throw filterError(`'${first.v}' needs an entity prefix, for example ${grammar.entities.has('metric') ? 'metrics' : 'tags'}.${first.v} or attributes.${first.v}`);
  }
  if (entity === 'attribute' && !Object.hasOwn(grammar.attributes, key)) {
    throw filterError(`unknown attribute '${key}'; known attributes: ${Object.keys(grammar.attributes).join(', ')}`);
  }
  return { entity, key };
}

const PREFIX: Record<FilterEntity, string> = { metric: 'metrics', param: 'params', tag: 'tags', attribute: 'attributes' };



export function parseFilter(filter: string | undefined | null): FilterClause[] {
  return parseWith(filter, RUN_GRAMMAR);
}

/** MLflow's experiment filter: `name`, `creation_time`, `last_update_time` and `tags.<key>`. */
export function parseExperimentFilter(filter: string | undefined | null): FilterClause[] {
  return parseWith(filter, EXPERIMENT_FILTER_GRAMMAR);
}

function parseWith(filter: string | undefined | null, grammar: Grammar): FilterClause[] {
  if (filter === undefined || filter === null || filter.trim() === '') return [];
  if (filter.length > 10_000) throw filterError('longer than 10000 characters');
  const cur = new TokenCursor(tokenizeSearch(filter));
  const clauses: FilterClause[] = [];
  for (;;) {
    const { entity, key } = readIdentifier(cur, 'a field', grammar);
    const comparator = readComparator(cur);
    const value = readValue(cur, comparator);
    clauses.push(validateClause({ entity, key, comparator, value }, grammar));
    if (cur.done()) break;
    const and = cur.next();
    if (and?.t !== 'ident' || and.v.toUpperCase() !== 'AND') {
      throw filterError(`expected AND between clauses, found ${describeToken(and)}${and?.t === 'ident' && and.v.toUpperCase() === 'OR' ? ' (OR is not supported)' : ''}`);
    }
  }
  return clauses;
}

function validateClause(c: FilterClause, grammar: Grammar): FilterClause {
  const numeric = c.entity === 'metric' || (c.entity === 'attribute' && grammar.attributes[c.key]!.numeric);
  const list = Array.isArray(c.value) ? c.value : [c.value];
  if (numeric) {
    if (c.comparator === 'LIKE' || c.comparator === 'ILIKE' || c.comparator === 'IN' || c.comparator === 'NOT IN') {
      throw filterError(`${c.comparator} cannot be used with ${label(c)}, which is numeric`);
    }
    if (list.some((v) => typeof v !== 'number')) throw filterError(`${label(c)} must be compared with a number`);
  } else {
    if (c.comparator === '<' || c.comparator === '<=' || c.comparator === '>' || c.comparator === '>=') {
      if (c.entity !== 'param' && c.entity !== 'tag') throw filterError(`${c.comparator} cannot be used with ${label(c)}`);
    }
    if (list.some((v) => typeof v !== 'string')) throw filterError(`${label(c)} must be compared with a quoted string`);
  }
  return c;
}

function label(c: { entity: FilterEntity; key: string }): string {
  return `${PREFIX[c.entity]}.${c.key}`;
}

export function parseOrderBy(orderBy: string[] | string | undefined | null): OrderClause[] {
  return parseOrderWith(orderBy, RUN_GRAMMAR);
}

/** MLflow's experiment order: `name`, `experiment_id`, `creation_time`, `last_update_time`. */
export function parseExperimentOrderBy(orderBy: string[] | string | undefined | null): OrderClause[] {
  return parseOrderWith(orderBy, EXPERIMENT_ORDER_GRAMMAR);
}

function parseOrderWith(orderBy: string[] | string | undefined | null, grammar: Grammar): OrderClause[] {
  if (orderBy === undefined || orderBy === null) return [];
  const list = Array.isArray(orderBy) ? orderBy : [orderBy];
  return list
    .filter((s) => s.trim() !== '')
    .map((s) => {
      const cur = new TokenCursor(tokenizeSearch(s));
      const { entity, key } = readIdentifier(cur, 'an order field', grammar);
      const ascending = readOrderDirection(cur, s);
      return { entity, key, ascending };
    });
}
