export { EventBus, type EventHandler } from './event-bus.js';
export { EventDispatcher, type DispatcherOptions } from './event-dispatcher.js';
export { EventLog, MAX_EVENT_PAGE, MAX_EVENT_WAIT_MS, type EventPage, type ReadEventsInput } from './event-log.js';
export { Outbox, outboxFor } from './outbox.js';
export { PgListener, type PgListenerOptions } from './pg-listener.js';
export { actorOf, type Actor, type WriteContext } from './actor.js';
export { EVENT_TYPES, isEventType, type DomainEvent, type EventPayloads, type EventSubject, type EventType, type NewEvent } from './types.js';
