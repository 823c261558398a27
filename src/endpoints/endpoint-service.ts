import { FluxError } from '../core/index.js';
import { actorOf, type WriteContext } from '../events/index.js';
import { parseModelRefName, type RegistryService } from '../registry/index.js';
import type { EndpointStore } from './endpoint-store.js';
import {
  MAX_DEPLOYMENTS,
  batchingOf,
  deploymentName,
  endpointName,
  headerName,
  inferenceLogOf,
  mainDeployment,
  parseMirror,
  parseWeights,
  withShare,
  type Endpoint,
  type Weights,
} from './types.js';

const ENVIRONMENT = /^[a-z][a-z0-9-]{0,31}$/;
const PREDICT_ROLES = ['developer', 'predict', 'admin'];

export interface CreateEndpointInput {
  name: unknown;
  environment?: unknown;
  description?: unknown;
  predictRoles?: unknown;
  stickyHeader?: unknown;
  inferenceLog?: unknown;
}

export interface DeployInput {
  name: unknown;
  model: unknown;
  /** The deployment's share of traffic after the deploy; the others are scaled to fill the rest. */
  traffic?: unknown;
  batching?: unknown;
}

/**
 * Endpoints, their deployments, traffic splits and mirrors: validation and the rules between
 * them. A deployment names a model reference that must resolve to a servable version when it is
 * deployed; the first deployment of an endpoint takes all its traffic, later ones none until told.
 * A deployment that takes traffic or a mirror share cannot be removed.
 */
export class EndpointService {
  constructor(
    private readonly store: EndpointStore,
    private readonly registry: RegistryService,
  ) {}

  async createEndpoint(input: CreateEndpointInput, ctx?: WriteContext): Promise<Endpoint> {
    const name = endpointName(input.name);
    await this.store.create(
      {
        name,
        environment: environment(input.environment ?? 'production'),
        description: text(input.description, 'description'),
        predictRoles: predictRoles(input.predictRoles),
        stickyHeader: input.stickyHeader === undefined || input.stickyHeader === null ? null : headerName(input.stickyHeader),
        inferenceLog: inferenceLogOf(input.inferenceLog),
      },
      actorOf(ctx),
    );
    return this.getEndpoint(name);
  }

  async getEndpoint(name: unknown): Promise<Endpoint> {
    const n = endpointName(name);
    const e = await this.store.get(n);
    if (e === undefined) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `endpoint '${n}' does not exist`);
    return e;
  }

  listEndpoints(): Promise<Endpoint[]> {
    return this.store.list();
  }

  async updateEndpoint(
    name: unknown,
    patch: { environment?: unknown; description?: unknown; predictRoles?: unknown; stickyHeader?: unknown; inferenceLog?: unknown },
    ctx?: WriteContext,
  ): Promise<Endpoint> {
    const n = endpointName(name);
    // Fields of inferenceLog left out keep their value.
    const inferenceLog = patch.inferenceLog === undefined ? undefined : inferenceLogOf(patch.inferenceLog, (await this.getEndpoint(n)).inferenceLog);
    const ok = await this.store.update(
      n,
      {
        ...(patch.environment !== undefined ? { environment: environment(patch.environment) } : {}),
        ...(patch.description !== undefined ? { description: text(patch.description, 'description') } : {}),
        ...(patch.predictRoles !== undefined ? { predictRoles: predictRoles(patch.predictRoles) } : {}),
        ...(patch.stickyHeader !== undefined ? { stickyHeader: patch.stickyHeader === null || patch.stickyHeader === '' ? null : headerName(patch.stickyHeader) } : {}),
        ...(inferenceLog !== undefined ? { inferenceLog } : {}),
      },
      actorOf(ctx),
    );
    if (!ok) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `endpoint '${n}' does not exist`);
    return this.getEndpoint(n);
  }

  async deleteEndpoint(name: unknown, ctx?: WriteContext): Promise<void> {
    const n = endpointName(name);
    if (!(await this.store.delete(n, actorOf(ctx)))) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `endpoint '${n}' does not exist`);
  }

  /** Creates a deployment, or points an existing one at another model (served with hot swap). */
  async deploy(endpoint: unknown, input: DeployInput, ctx?: WriteContext): Promise<Endpoint> {
    const e = endpointName(endpoint, 'endpoint');
    const name = deploymentName(input.name, 'name');
    const model = await this.servableRef(input.model);
    const batching = batchingOf(input.batching);
    const share = input.traffic === undefined || input.traffic === null ? undefined : percent(input.traffic, 'traffic');
    return this.change(e, ctx, (current) => {
      const exists = current.deployments.some((d) => d.name === name);
      if (!exists && current.deployments.length >= MAX_DEPLOYMENTS) {
        throw new FluxError('INVALID_STATE', `endpoint '${e}' already has ${MAX_DEPLOYMENTS} deployments; remove one first`);
      }
      const base: Weights = { ...current.traffic, [name]: current.traffic[name] ?? 0 };
      let traffic: Weights;
      if (share !== undefined) traffic = withShare(base, name, share);
      else if (current.deployments.length === 0) traffic = { [name]: 100 };
      else traffic = base;
      return { upsert: { name, model, batching }, traffic };
    });
  }

  async removeDeployment(endpoint: unknown, name: unknown, ctx?: WriteContext): Promise<Endpoint> {
    const e = endpointName(endpoint, 'endpoint');
    const d = deploymentName(name, 'deployment');
    return this.change(e, ctx, (current) => {
      if (!current.deployments.some((x) => x.name === d)) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `endpoint '${e}' has no deployment '${d}'`);
      const live = current.traffic[d] ?? 0;
      const others = current.deployments.filter((x) => x.name !== d);
      if (live > 0 && others.length > 0) {
        throw new FluxError('INVALID_STATE', `deployment '${d}' takes ${live} % of the traffic of '${e}': move it elsewhere first (fluxops traffic set ${e} …)`);
      }
      const traffic = Object.fromEntries(Object.entries(current.traffic).filter(([k]) => k !== d));
      const mirror = Object.fromEntries(Object.entries(current.mirror).filter(([k]) => k !== d));
      return { remove: d, traffic, mirror };
    });
  }

  async setTraffic(endpoint: unknown, weights: unknown, ctx?: WriteContext): Promise<Endpoint> {
    const e = endpointName(endpoint, 'endpoint');
    return this.change(e, ctx, (current) => ({ traffic: parseWeights(weights, current.deployments.map((d) => d.name)) }));
  }

  /** Sets the mirror shares given (deployment → percent; 0 stops one); the others stay as they are. */
  async setMirror(endpoint: unknown, mirror: unknown, ctx?: WriteContext): Promise<Endpoint> {
    const e = endpointName(endpoint, 'endpoint');
    return this.change(e, ctx, (current) => {
      const given = parseMirror(mirror, current.deployments.map((d) => d.name), 'mirror', true);
      const next = { ...current.mirror, ...given };
      for (const [k, w] of Object.entries(next)) if (w === 0) delete next[k];
      return { mirror: next };
    });
  }

  /**
   * The version an endpoint serves, as a fixed reference (`diabetes/3`): the model of its
   * deployment with the most traffic, an alias resolved now. What a staging endpoint hands on.
   */
  async servedVersion(endpoint: unknown): Promise<{ deployment: string; ref: string }> {
    const e = await this.getEndpoint(endpoint);
    const main = mainDeployment(e.traffic);
    const d = e.deployments.find((x) => x.name === main);
    if (d === undefined) throw new FluxError('INVALID_STATE', `endpoint '${e.name}' serves nothing: no deployment takes traffic`);
    const mv = await this.registry.resolve(d.model);
    return { deployment: d.name, ref: `${mv.name}/${mv.version}` };
  }

  private async change(e: string, ctx: WriteContext | undefined, fn: Parameters<EndpointStore['change']>[1]): Promise<Endpoint> {
    const out = await this.store.change(e, fn, actorOf(ctx));
    if (out === undefined) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `endpoint '${e}' does not exist`);
    return out;
  }

  /** A model reference that resolves, now, to a version FluxOps can serve. */
  private async servableRef(v: unknown): Promise<string> {
    if (typeof v !== 'string' || v.trim() === '') throw new FluxError('INVALID_PARAMETER_VALUE', 'model must be a model reference such as diabetes/3 or diabetes@production', { field: 'model' });
    const ref = v.trim().replace(/^models:\/+/, '');
    if (parseModelRefName(ref) === ref && !/[@/]/.test(ref)) {
      throw new FluxError('INVALID_PARAMETER_VALUE', `model must name a version or an alias (such as ${ref}/1 or ${ref}@production), not only the model`, { field: 'model' });
    }
    let mv;
    try {
      mv = await this.registry.resolve(ref);
    } catch (e) {
      if (e instanceof FluxError) throw new FluxError('INVALID_PARAMETER_VALUE', `model ${ref} cannot be deployed: ${e.message}`, { field: 'model' });
      throw e;
    }
    if (mv.storageLocation === '') throw new FluxError('INVALID_PARAMETER_VALUE', `model ${ref} (${mv.name} v${mv.version}) is stored outside FluxOps and cannot be served`, { field: 'model' });
    if (mv.statusMessage.startsWith('not servable')) throw new FluxError('INVALID_PARAMETER_VALUE', `model ${ref} (${mv.name} v${mv.version}) is ${mv.statusMessage}`, { field: 'model' });
    return ref;
  }
}

function environment(v: unknown): string {
  if (typeof v !== 'string' || !ENVIRONMENT.test(v)) throw new FluxError('INVALID_PARAMETER_VALUE', `environment must be a short lower-case label such as staging or production; got ${JSON.stringify(v)}`, { field: 'environment' });
  return v;
}

function text(v: unknown, field: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string' || v.length > 5000) throw new FluxError('INVALID_PARAMETER_VALUE', `${field} must be a string of at most 5000 characters`, { field });
  return v;
}

function predictRoles(v: unknown): string[] | null {
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v) || v.length === 0 || v.some((r) => typeof r !== 'string' || !PREDICT_ROLES.includes(r))) {
    throw new FluxError('INVALID_PARAMETER_VALUE', `predictRoles must be a non-empty list of roles that can predict (${PREDICT_ROLES.join(', ')}), or null for all of them`, { field: 'predictRoles' });
  }
  return [...new Set(v as string[])].sort();
}

function percent(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 100) throw new FluxError('INVALID_PARAMETER_VALUE', `${field} must be an integer percent from 0 to 100; got ${JSON.stringify(v)}`, { field });
  return v;
}
