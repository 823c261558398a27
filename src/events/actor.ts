/**
 * Who makes a change: the name of the API key that called, or null for the CLI and in-process
 * callers. Recorded on every event a change appends.
 *
 * It is passed explicitly (`WriteContext`), not carried by AsyncLocalStorage: on Node 20 an active
 * AsyncLocalStorage puts a hook on every promise in the process, and that cost 15 % of the
 * throughput of single-call metric logging.
 */
export type Actor = string | null;

/** The last argument of each state-changing service method that appends events. */
export interface WriteContext {
  actor?: Actor | undefined;
}

export function actorOf(ctx: WriteContext | undefined): Actor {
  return ctx?.actor ?? null;
}
