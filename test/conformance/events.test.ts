import { inject } from 'vitest';
import { postgresBackend, sqliteBackend } from '../helpers/backends.js';
import { describeEventConformance } from './events-conformance.js';

describeEventConformance(sqliteBackend());
if (inject('pgUrl')) describeEventConformance(postgresBackend(inject('pgUrl')));
