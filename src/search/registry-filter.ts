import { describeToken, filterError, tokenizeSearch, TokenCursor, readComparator, readEntityKey, readOrderDirection, readValue, type SearchComparator, type SearchValue } from './lexer.js';
import { FluxError } from '../core/index.js';

/**
 * MLflow's search grammar for the registry (registered models, model versions) and for logged
 * models: clauses joined by AND, each `<field> <comparator> <value>`. A field is a bare attribute
 * (`name`, `run_id`), an attribute with a prefix (`attributes.name`), or `<entity>.<key>` for
 * key-value entities (`tags.team`, and for logged models `params.alpha`, `metrics.f1`). Keys with
 * spaces or dots are quoted with backticks or double quotes. What each search accepts is a
 * {@link SearchSpec}, so one parser serves all three.
 */
export type { SearchComparator } from './lexer.js';
export type { SearchValue } from './lexer.js';

export interface SearchClause {
  /** `attribute`, or the canonical name of a key-value entity (`tag`, `param`, `metric`). */
  entity: string;
  key: string;
  comparator: SearchComparator;
  value: SearchValue;
}

export interface SearchOrder {
  entity: string;
  key: string;
  ascending: boolean;
}

export interface SearchSpec {
  /** What is searched, for error messages: `registered models`. */
  what: string;
  /** Attribute name → whether it compares as a number and may be used with IN. Aliases map to one key via `attributeAliases`. */
  attributes: Record<string, { numeric: boolean; inList?: boolean }>;
  attributeAliases?: Record<string, string>;
  /** Entity prefixes (`tags`, `tag`) → canonical entity (`tag`); numeric entities compare with numbers. */
  entities: Record<string, string>;
  numericEntities?: string[];
  /** Order keys (attributes only unless `orderEntities` names entities) and their aliases. */
  orderable: Record<string, string>;
  orderEntities?: string[];
}

const STRING_OPS: SearchComparator[] = ['=', '!=', 'LIKE', 'ILIKE'];
const NUMERIC_OPS: SearchComparator[] = ['=', '!=', '<', '<=', '>', '>='];
const ATTRIBUTE_PREFIXES = new Set(['attribute', 'attributes', 'attr']);



/** Reads a field: `name`, `attributes.name`, `tags.key`, `tags.\`a key\``, `tags.a.b`. */
function readField(cur: TokenCursor, spec: SearchSpec, forOrder: boolean): { entity: string; key: string } {
  const first = cur.next();
  if (first?.t !== 'ident') throw filterError(`expected a field such as name or tags.<key>, found ${describeToken(first)}`);
  const dot = cur.peek();
  let entity = 'attribute';
  let key = first.v;
  if (!first.quoted && dot?.t === 'punct' && dot.v === '.') {
    const prefix = first.v.toLowerCase();
    const canonical = ATTRIBUTE_PREFIXES.has(prefix) ? 'attribute' : spec.entities[prefix];
    if (canonical === undefined) {
      const known = [...new Set(Object.values(spec.entities))].map((e) => `${e}s.<key>`);
      throw filterError(`unknown entity '${first.v}' for ${spec.what}; use ${[...Object.keys(spec.attributes), ...known].join(', ')}`);
    }
    entity = canonical;
    cur.next();
    key = readEntityKey(cur, first.v);
  }
  if (entity === 'attribute') {
    if (forOrder) {
      const k = spec.orderable[key];
      if (k === undefined) {
        throw new FluxError('INVALID_PARAMETER_VALUE', `invalid order_by field '${key}' for ${spec.what}; use one of ${Object.keys(spec.orderable).join(', ')}`);
      }
      return { entity, key: k };
    }
    const canonical = spec.attributeAliases?.[key] ?? key;
    if (!(canonical in spec.attributes)) {
      throw filterError(`unknown attribute '${key}' for ${spec.what}; use one of ${Object.keys(spec.attributes).join(', ')} or tags.<key>`);
    }
    return { entity, key: canonical };
  }
  if (forOrder && !(spec.orderEntities ?? []).includes(entity)) {
    throw new FluxError('INVALID_PARAMETER_VALUE', `${spec.what} cannot be ordered by ${entity}s; use one of ${Object.keys(spec.orderable).join(', ')}`);
  }
  return { entity, key };
}


function label(c: { entity: string; key: string }): string {
  return c.entity === 'attribute' ? c.key : `${c.entity}s.${c.key}`;
}

/** Checks a clause against the spec and normalises its value (numbers for numeric fields). */
function validate(c: SearchClause, spec: SearchSpec): SearchClause {
  const numeric = c.entity === 'attribute' ? spec.attributes[c.key]!.numeric : (spec.numericEntities ?? []).includes(c.entity);
  const inList = c.entity === 'attribute' && spec.attributes[c.key]!.inList === true;
  const allowed = numeric ? NUMERIC_OPS : inList ? [...STRING_OPS, 'IN', 'NOT IN'] : STRING_OPS;
  if (!allowed.includes(c.comparator)) {
    throw filterError(`${c.comparator} cannot be used with ${label(c)}; use ${allowed.join(', ')}`);
  }
  const toValue = (v: string | number): string | number => {
    if (!numeric) {
      if (typeof v !== 'string') throw filterError(`${label(c)} must be compared with a quoted string`);
      return v;
    }
    const n = typeof v === 'number' ? v : /^-?\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : NaN;
    if (!Number.isFinite(n)) throw filterError(`${label(c)} must be compared with a number`);
    return n;
  };
  return { ...c, value: Array.isArray(c.value) ? c.value.map(toValue) : toValue(c.value) };
}

/** Parses a filter string into clauses; empty or missing means no filter. */
export function parseSearchFilter(filter: string | undefined | null, spec: SearchSpec): SearchClause[] {
  if (filter === undefined || filter === null || filter.trim() === '') return [];
  if (filter.length > 10_000) throw filterError('longer than 10000 characters');
  const cur = new TokenCursor(tokenizeSearch(filter));
  const clauses: SearchClause[] = [];
  for (;;) {
    const field = readField(cur, spec, false);
    const comparator = readComparator(cur);
    const value = readValue(cur, comparator);
    clauses.push(validate({ ...field, comparator, value }, spec));
    if (cur.done()) break;
    const and = cur.next();
    if (and?.t !== 'ident' || and.v.toUpperCase() !== 'AND') {
      throw filterError(`expected AND between clauses, found ${describeToken(and)}${and?.t === 'ident' && and.v.toUpperCase() === 'OR' ? ' (OR is not supported)' : ''}`);
    }
  }
  return clauses;
}

/** Parses `order_by` entries such as `name ASC`, `last_updated_timestamp DESC`; a field may appear once. */
export function parseSearchOrderBy(orderBy: string[] | string | undefined | null, spec: SearchSpec): SearchOrder[] {
  if (orderBy === undefined || orderBy === null) return [];
  const list = Array.isArray(orderBy) ? orderBy : [orderBy];
  const seen = new Set<string>();
  const out: SearchOrder[] = [];
  for (const s of list) {
    if (typeof s !== 'string') throw new FluxError('INVALID_PARAMETER_VALUE', 'order_by must be a list of strings', { field: 'order_by' });
    if (s.trim() === '') continue;
    const cur = new TokenCursor(tokenizeSearch(s));
    const { entity, key } = readField(cur, spec, true);
    const ascending = readOrderDirection(cur, s);
    const id = `${entity}.${key}`;
    if (seen.has(id)) throw new FluxError('INVALID_PARAMETER_VALUE', `order_by names ${label({ entity, key })} more than once`);
    seen.add(id);
    out.push({ entity, key, ascending });
  }
  return out;
}

/** Registered models: `name`, the two timestamps, `tags.<key>`; ordered by name or time. */
export const REGISTERED_MODEL_SEARCH: SearchSpec = {
  what: 'registered models',
  attributes: { name: { numeric: false }, creation_timestamp: { numeric: true }, last_updated_timestamp: { numeric: true } },
  entities: { tag: 'tag', tags: 'tag' },
  orderable: { name: 'name', timestamp: 'last_updated_timestamp', last_updated_timestamp: 'last_updated_timestamp', creation_timestamp: 'creation_timestamp' },
};

/** Model versions: `name`, `run_id` (with IN), `source_path`, `version_number`, timestamps, `tags.<key>`. */
export const MODEL_VERSION_SEARCH: SearchSpec = {
  what: 'model versions',
  attributes: {
    name: { numeric: false, inList: true },
    run_id: { numeric: false, inList: true },
    source_path: { numeric: false },
    model_id: { numeric: false, inList: true },
    version_number: { numeric: true },
    creation_timestamp: { numeric: true },
    last_updated_timestamp: { numeric: true },
  },
  attributeAliases: { source: 'source_path', version: 'version_number' },
  entities: { tag: 'tag', tags: 'tag' },
  orderable: {
    name: 'name',
    version_number: 'version_number',
    version: 'version_number',
    creation_timestamp: 'creation_timestamp',
    last_updated_timestamp: 'last_updated_timestamp',
    timestamp: 'last_updated_timestamp',
  },
};
