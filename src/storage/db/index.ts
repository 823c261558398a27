export { openDatabase, pingDatabase, redact, type Dialect, type MetadataDb } from './database.js';
export { describeDatabaseError } from './database-error.js';
export { postgresSettings, POSTGRES_DEFAULTS, type PostgresSettings } from './postgres-settings.js';
export { migrateToLatest, migrationsFor } from './migrate.js';
export { caseSensitiveLike } from './like.js';
export { GroupCommitter, groupCommitterFor, type GroupWork } from './group-committer.js';
export { RowInsert } from './row-insert.js';
export { isUniqueViolation, uniqueOrAlreadyExists } from './unique-violation.js';
export type { Database } from './schema.js';
