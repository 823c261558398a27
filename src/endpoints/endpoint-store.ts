import type { Actor } from '../events/index.js';
import type { Batching, Endpoint, InferenceLogSettings, Weights } from './types.js';

export interface NewEndpoint {
  name: string;
  environment: string;
  description: string;
  predictRoles: string[] | null;
  stickyHeader: string | null;
  inferenceLog: InferenceLogSettings;
}

export interface EndpointPatch {
  environment?: string;
  description?: string;
  predictRoles?: string[] | null;
  stickyHeader?: string | null;
  inferenceLog?: InferenceLogSettings;
}

/**
 * Port for endpoints, deployments and traffic. Every change is one transaction that appends its
 * event and bumps the endpoint's generation; changes of one endpoint are serialised (its row is
 * locked), so two servers moving traffic at once each see the other's result.
 */
export interface EndpointStore {
  create(input: NewEndpoint, actor: Actor): Promise<void>;
  get(name: string): Promise<Endpoint | undefined>;
  list(): Promise<Endpoint[]>;
  update(name: string, patch: EndpointPatch, actor: Actor): Promise<boolean>;
  delete(name: string, actor: Actor): Promise<boolean>;
  /**
   * Under the endpoint's lock: reads it, lets `change` decide (it may throw to refuse), and writes
   * what it returns: a deployment to create or update, one to remove, and the new traffic and
   * mirror. Returns undefined when the endpoint does not exist.
   */
  change(name: string, change: (current: Endpoint) => EndpointChange, actor: Actor): Promise<Endpoint | undefined>;
}

export interface EndpointChange {
  upsert?: { name: string; model: string; batching: Batching | null } | undefined;
  remove?: string | undefined;
  traffic?: Weights | undefined;
  mirror?: Weights | undefined;
}
