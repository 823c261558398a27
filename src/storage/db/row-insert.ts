import { CompiledQuery, type Compilable } from 'kysely';

/** Prefix of the marker values compiled in place of real ones (never sent to the database). */
const MARKER = '\u2063row-insert-marker:';

/** Row counts whose compiled SQL is kept (single writes are 1; MLflow batches up to 1,000). */
const MAX_SHAPES = 64;

/**
 * An insert of rows of one shape, compiled once per row count and then only bound to new values.
 * On the single-write path (one metric per request) building and compiling the statement with
 * Kysely cost more than SQLite took to run it; the SQL for n rows never changes, only the values.
 *
 * Which parameter is which row's column is read from Kysely's own compilation of marker values,
 * so the binding follows whatever order Kysely emits rather than assuming one.
 */
export class RowInsert<Row extends object> {
  private readonly shapes = new Map<number, { sql: string; slots: Array<[number, keyof Row]> }>();

  constructor(private readonly build: (rows: Row[]) => Compilable<unknown>) {}

  bind(rows: Row[]): CompiledQuery<unknown> {
    const shape = this.shapes.get(rows.length) ?? this.compile(rows);
    return CompiledQuery.raw(
      shape.sql,
      shape.slots.map(([i, col]) => rows[i]![col]),
    );
  }

  private compile(rows: Row[]): { sql: string; slots: Array<[number, keyof Row]> } {
    const columns = Object.keys(rows[0]!) as Array<keyof Row>;
    const markers = rows.map((_, i) => Object.fromEntries(columns.map((c) => [c, `${MARKER}${i}:${String(c)}`])) as Row);
    const compiled = this.build(markers).compile();
    const slots = compiled.parameters.map((p): [number, keyof Row] => {
      const m = typeof p === 'string' && p.startsWith(MARKER) ? /^(\d+):(.*)$/.exec(p.slice(MARKER.length)) : null;
      if (m === null) throw new Error(`RowInsert: parameter ${String(p)} is not a row value; the statement cannot be reused`);
      return [Number(m[1]), m[2] as keyof Row];
    });
    const shape = { sql: compiled.sql, slots };
    if (this.shapes.size < MAX_SHAPES) this.shapes.set(rows.length, shape);
    return shape;
  }
}
