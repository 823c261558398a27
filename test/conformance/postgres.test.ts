import { beforeAll, describe, inject } from 'vitest';
import { postgresBackend } from '../helpers/backends.js';
import { describeStoreConformance } from './store-conformance.js';

const pgUrl = inject('pgUrl');
const backend = postgresBackend(pgUrl);

describe.skipIf(!pgUrl)(pgUrl ? 'postgres' : 'postgres — SKIPPED: Postgres not reachable (set FLUXOPS_TEST_PG_ADMIN_URL)', () => {
  beforeAll(() => {
    console.log(`store conformance: running on ${backend.label}`);
  });
  describeStoreConformance(backend);
});
