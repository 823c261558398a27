import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import { caseSensitiveLike, type Dialect } from '../storage/db/index.js';
import type { SearchComparator, SearchValue } from './registry-filter.js';

/**
 * `expr <comparator> value` for one parsed search clause, the same on SQLite and Postgres: LIKE is
 * case-sensitive everywhere (as on Postgres), ILIKE compares lower-cased text.
 */
export function compareSql<DB, TB extends keyof DB>(
  eb: ExpressionBuilder<DB, TB>,
  expr: Expression<unknown>,
  comparator: SearchComparator,
  value: SearchValue,
  dialect: Dialect,
): Expression<SqlBool> {
  switch (comparator) {
    case 'LIKE':
      return caseSensitiveLike(expr, String(value), dialect);
    case 'ILIKE':
      return sql<SqlBool>`lower(${expr}) like lower(${String(value)})`;
    case 'IN':
    case 'NOT IN': {
      const list = Array.isArray(value) ? value : [value];
      if (list.length === 0) return sql<SqlBool>`${comparator === 'IN' ? sql`1 = 0` : sql`1 = 1`}`;
      return eb(expr as never, comparator === 'IN' ? 'in' : 'not in', list as never);
    }
    case '=':
    case '!=':
    case '<':
    case '<=':
    case '>':
    case '>=':
      return eb(expr as never, comparator === '!=' ? '<>' : comparator, value as never);
  }
}
