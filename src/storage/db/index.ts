export { openDatabase, pingDatabase, type Dialect, type MetadataDb } from './database.js';
export { migrateToLatest, migrationsFor } from './migrate.js';
export { caseSensitiveLike } from './like.js';
export { GroupCommitter, type GroupWork } from './group-committer.js';
export { RowInsert } from './row-insert.js';
export { isUniqueViolation, uniqueOrAlreadyExists } from './unique-violation.js';
export type { Database } from './schema.js';
