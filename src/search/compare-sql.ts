import { sql, type Expression, type SqlBool } from 'kysely';
import { caseSensitiveLike, type Dialect } from '../storage/db/index.js';
import type { SearchComparator, SearchValue } from './lexer.js';

/**
 * `expr <comparator> value` for one parsed clause of any search (runs, experiments, registered
 * models, versions, logged models), the same on SQLite and Postgres: LIKE is case-sensitive
 * everywhere (as on Postgres), ILIKE compares lower-cased text, an empty IN list matches nothing.
 */
export function compareSql(expr: Expression<unknown>, comparator: SearchComparator, value: SearchValue, dialect: Dialect): Expression<SqlBool> {
  switch (comparator) {
    case '=':
    case '!=':
    case '<':
    case '<=':
    case '>':
    case '>=':
      // Times are bigint columns: Postgres refuses a fractional or out-of-range bigint parameter,
      // so such a number is compared as a double (exact for epoch milliseconds).
      return typeof value === 'number' && !Number.isSafeInteger(value)
        ? sql<SqlBool>`${expr} ${sql.raw(comparator)} cast(${value} as double precision)`
        : sql<SqlBool>`${expr} ${sql.raw(comparator)} ${value}`;
    case 'LIKE':
      return caseSensitiveLike(expr, String(value), dialect);
    case 'ILIKE':
      return sql<SqlBool>`lower(${expr}) like lower(${String(value)})`;
    case 'IN':
    case 'NOT IN': {
      const list = Array.isArray(value) ? value : [value];
      if (list.length === 0) return comparator === 'IN' ? sql<SqlBool>`1 = 0` : sql<SqlBool>`1 = 1`;
      return sql<SqlBool>`${expr} ${sql.raw(comparator === 'IN' ? 'in' : 'not in')} (${sql.join(list)})`;
    }
  }
}
