import { inject } from 'vitest';
import { postgresBackend, sqliteBackend } from '../helpers/backends.js';
import { describeScheduleConformance } from './schedules-conformance.js';

describeScheduleConformance(sqliteBackend());
if (inject('pgUrl')) describeScheduleConformance(postgresBackend(inject('pgUrl')));
