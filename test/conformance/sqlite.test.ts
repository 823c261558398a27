import { beforeAll } from 'vitest';
import { sqliteBackend } from '../helpers/backends.js';
import { describeStoreConformance } from './store-conformance.js';

const backend = sqliteBackend();

beforeAll(() => {
  console.log(`store conformance: running on ${backend.label}`);
});

describeStoreConformance(backend);
