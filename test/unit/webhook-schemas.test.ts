import type { Static } from '@sinclair/typebox';
import { describe, expectTypeOf, it } from 'vitest';
import type * as S from '../../src/api/schemas.js';
import type { DeliveryAttempt, Webhook, WebhookDelivery } from '../../src/webhooks/index.js';

/** An intersection as one object type, as TypeBox's Composite builds it. */
type Flat<T> = { [K in keyof T]: T[K] };

/*
 * Fastify serialises responses with their schema and drops what it does not name, so each webhook
 * response schema must be its domain type exactly (as test/unit/api-schemas.test.ts does for the others).
 */
describe('webhook response schemas match the domain types', () => {
  it('webhooks and deliveries', () => {
    expectTypeOf<Static<typeof S.Webhook>>().toEqualTypeOf<Webhook>();
    expectTypeOf<Static<typeof S.CreatedWebhook>>().toEqualTypeOf<Flat<Webhook & { secret: string }>>();
    expectTypeOf<Static<typeof S.DeliveryAttemptJson>>().toEqualTypeOf<DeliveryAttempt>();
    expectTypeOf<Static<typeof S.WebhookDelivery>>().toEqualTypeOf<WebhookDelivery>();
  });
});
