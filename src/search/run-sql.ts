import { sql, type Expression, type SqlBool } from 'kysely';
import { caseSensitiveLike, type Dialect } from '../storage/db/index.js';
import type { FilterClause } from './run-filter.js';

/**
 * `col <comparator> value` for one clause of a run or experiment search, the same on SQLite and
 * Postgres: LIKE is case-sensitive everywhere (as on Postgres), ILIKE compares lower-cased text.
 */
export function compare(col: Expression<unknown>, c: FilterClause, dialect: Dialect): Expression<SqlBool> {
  const v = c.value;
  switch (c.comparator) {
    case '=':
    case '!=':
    case '<':
    case '<=':
    case '>':
    case '>=':
      // Time attributes are bigint columns: Postgres refuses a fractional or out-of-range bigint
      // parameter, so such a number is compared as a double (exact for epoch milliseconds).
      return typeof v === 'number' && !Number.isSafeInteger(v)
        ? sql<SqlBool>`${col} ${sql.raw(c.comparator)} cast(${v} as double precision)`
        : sql<SqlBool>`${col} ${sql.raw(c.comparator)} ${v}`;
    case 'LIKE':
      return caseSensitiveLike(col, v as string, dialect);
    case 'ILIKE':
      return sql<SqlBool>`lower(${col}) like lower(${v})`;
    case 'IN':
      return sql<SqlBool>`${col} in (${sql.join(v as string[])})`;
    case 'NOT IN':
      return sql<SqlBool>`${col} not in (${sql.join(v as string[])})`;
  }
}
