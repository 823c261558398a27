import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Who is making changes in the current async context (an API key name). A transport sets it once
 * per request (`runAsActor(name, handler)`), and every event appended below it records it, so the
 * services and stores need no actor parameter threaded through each call.
 */
const actorContext = new AsyncLocalStorage<string>();

export function runAsActor<T>(actor: string, fn: () => T): T {
  return actorContext.run(actor, fn);
}

export function currentActor(): string | null {
  return actorContext.getStore() ?? null;
}
