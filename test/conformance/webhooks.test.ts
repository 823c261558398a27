import { inject } from 'vitest';
import { postgresBackend, sqliteBackend } from '../helpers/backends.js';
import { describeWebhookStoreConformance } from './webhook-store-conformance.js';

describeWebhookStoreConformance(sqliteBackend());
if (inject('pgUrl')) describeWebhookStoreConformance(postgresBackend(inject('pgUrl')));
