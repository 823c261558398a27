import { sql, type Expression, type SqlBool } from 'kysely';
import type { Dialect } from './database.js';

/**
 * `expr LIKE pattern`, case-sensitive on every dialect as it is on Postgres. SQLite's LIKE ignores
 * ASCII case, so there the match must also pass GLOB (case-sensitive) with the same pattern.
 */
export function caseSensitiveLike(expr: Expression<unknown>, pattern: string, dialect: Dialect): Expression<SqlBool> {
  return dialect === 'sqlite'
    ? sql<SqlBool>`(${expr} like ${pattern} and ${expr} glob ${likeToGlob(pattern)})`
    : sql<SqlBool>`${expr} like ${pattern}`;
}

/** Case-sensitive twin of a LIKE pattern for SQLite: % → *, _ → ?, glob metacharacters bracketed. */
export function likeToGlob(pattern: string): string {
  let out = '';
  for (const ch of pattern) {
    if (ch === '%') out += '*';
    else if (ch === '_') out += '?';
    else if (ch === '*' || ch === '?' || ch === '[') out += `[${ch}]`;
    else out += ch;
  }
  return out;
}
