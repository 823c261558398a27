export { WebhookService, type CreateWebhookInput, type DeliveriesQuery } from './webhook-service.js';
export { WebhookDeliverer, type DelivererOptions } from './webhook-deliverer.js';
export { DeliveryRunner, retryDelay } from './delivery-runner.js';
export { KyselyWebhookStore } from './kysely-webhook-store.js';
export type { AttemptOutcome, ClaimedDelivery, NewDelivery, WebhookStore } from './webhook-store.js';
export { DEFAULT_TOLERANCE_SECONDS, DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, signPayload, verifySignature, type VerifyOptions, type VerifyResult } from './signature.js';
export { slackMessage, type SlackBlock, type SlackMessage } from './slack-format.js';
export { deliveryBody, RESPONSE_EXCERPT_BYTES } from './webhook-sender.js';
export {
  DELIVERY_STATES,
  TEST_EVENT_TYPE,
  WEBHOOK_FORMATS,
  matchesPattern,
  type DeliveryAttempt,
  type DeliveryState,
  type EventBody,
  type Webhook,
  type WebhookDelivery,
  type WebhookFilter,
  type WebhookFormat,
} from './types.js';
