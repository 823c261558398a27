import { FluxClient, type AuditApi, type EndpointsApi, type EventsApi, type RolloutsApi, type KeysApi, type RegistryApi, type TrackingApi } from '../client/index.js';
import { openPlatform, type Platform } from '../platform.js';

export interface GlobalOptions {
  home?: string | undefined;
  url?: string | undefined;
  apiKey?: string | undefined;
  json?: boolean | undefined;
}

/** What a command works on: the local home (in process) or a running server (over HTTP). */
export interface Backend {
  tracking: TrackingApi;
  registry: RegistryApi;
  keys: KeysApi;
  audit: AuditApi;
  events: EventsApi;
  endpoints: EndpointsApi;
  rollouts: RolloutsApi;
  platform: Platform | undefined;
  where: string;
  close(): Promise<void>;
}

export async function openBackend(opts: GlobalOptions): Promise<Backend> {
  const url = opts.url ?? process.env.FLUXOPS_URL;
  if (url !== undefined && url !== '') {
    const client = new FluxClient({ url, apiKey: opts.apiKey ?? process.env.FLUXOPS_API_KEY });
    return { tracking: client, registry: client, keys: client, audit: { list: (q) => client.listAudit(q) }, events: client, endpoints: client, rollouts: client, platform: undefined, where: url, close: async () => undefined };
  }
  const platform = await openPlatform({ home: opts.home });
  return {
    tracking: platform.tracking,
    registry: platform.registry,
    keys: platform.keys,
    audit: platform.audit,
    events: { readEvents: (input) => platform.events.log.read(input) },
    endpoints: platform.endpoints,
    rollouts: {
      startRollout: (endpoint, input) => platform.rollouts.start(endpoint, input),
      getRollout: (id) => platform.rollouts.get(id),
      listRollouts: (endpoint) => platform.rollouts.list({ endpoint }),
      rolloutAction: (id, action) => platform.rollouts[action](id),
    },
    platform,
    where: platform.config.home,
    close: () => platform.close(),
  };
}

/** Runs a command body against a backend and closes it, whatever happens. */
export async function withBackend<T>(opts: GlobalOptions, body: (b: Backend) => Promise<T>): Promise<T> {
  const backend = await openBackend(opts);
  try {
    return await body(backend);
  } finally {
    await backend.close();
  }
}
