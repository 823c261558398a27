import { inject } from 'vitest';
import { postgresBackend, sqliteBackend } from '../helpers/backends.js';
import { describeJobQueueConformance } from './job-queue-conformance.js';

describeJobQueueConformance(sqliteBackend());
if (inject('pgUrl')) describeJobQueueConformance(postgresBackend(inject('pgUrl')));
