import type { Kysely } from 'kysely';

/**
 * Dataset inputs keep all their tags (MLflow's input tags: any key, the `mlflow.data.context` tag
 * among them), in the order logged, as a JSON list of `{key, value}` in `run_inputs.tags`. Rows
 * written before hold '[]' and keep their context column; readers derive the context tag from it.
 */
export function runInputTags() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('run_inputs').addColumn('tags', 'text', (c) => c.notNull().defaultTo('[]')).execute();
    },
  };
}
