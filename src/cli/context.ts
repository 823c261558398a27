import { FluxClient, type AuditApi, type EndpointsApi, type EventsApi, type RolloutsApi, type SchedulesApi, type KeysApi, type RegistryApi, type TrackingApi } from '../client/index.js';
import type { AlertsApi, InferencesApi, MonitorsApi, PipelinesApi, WebhooksApi } from '../client/index.js';
import { alertView, csvLines, jsonLines, silenceView } from '../monitoring/index.js';
import { profileFromCsv } from '../workflows/index.js';
import { summarizePipeline } from '../pipelines/index.js';
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
  webhooks: WebhooksApi;
  schedules: SchedulesApi;
  pipelines: PipelinesApi;
  monitors: MonitorsApi;
  inferences: InferencesApi;
  alerts: AlertsApi;
  platform: Platform | undefined;
  where: string;
  close(): Promise<void>;
}

export async function openBackend(opts: GlobalOptions): Promise<Backend> {
  const url = opts.url ?? process.env.FLUXOPS_URL;
  if (url !== undefined && url !== '') {
    const client = new FluxClient({ url, apiKey: opts.apiKey ?? process.env.FLUXOPS_API_KEY });
    return { tracking: client, registry: client, keys: client, audit: { list: (q) => client.listAudit(q) }, events: client, endpoints: client, rollouts: client, webhooks: client, schedules: client, pipelines: client, monitors: client, inferences: client, alerts: client, platform: undefined, where: url, close: async () => undefined };
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
    schedules: schedulesOf(platform),
    webhooks: platform.webhooks,
    pipelines: pipelinesOf(platform),
    monitors: monitorsOf(platform),
    inferences: inferencesOf(platform),
    alerts: alertsOf(platform),
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

/** The in-process monitor service under the client's names. */
export function monitorsOf(platform: Platform): MonitorsApi {
  const m = platform.monitors;
  return {
    createMonitor: (input) => m.create(input),
    listMonitors: () => m.list(),
    getMonitor: (name) => m.get(name),
    updateMonitor: (name, patch) => m.update(name, patch),
    deleteMonitor: (name) => m.delete(name),
    runMonitor: (name) => m.run(name),
    monitorResults: (name, q) => m.results(name, q),
    putProfileCsv: async (model, version, csv, opts = {}) => {
      const mv = await platform.registry.getModelVersion(model, version);
      const profile = await profileFromCsv(platform.registry, mv, csv, { target: opts.target, source: opts.source ?? 'upload' });
      await m.putProfile(mv.name, mv.version, profile);
      return { model: mv.name, version: mv.version, source: profile.source, rows: profile.rows, columns: Object.keys(profile.features) };
    },
  };
}

/** The in-process alert service under the client's names (servers evaluate the rules; this only reads and writes them). */
export function alertsOf(platform: Platform): AlertsApi {
  const a = platform.alerts;
  return {
    createAlertRule: (body) => a.createRule(body),
    createSlo: (body) => a.createSlo(body),
    listAlertRules: () => a.listDefinitions(),
    deleteAlertRule: (name) => a.deleteDefinition(name),
    listAlerts: async (q) => (await a.listAlerts(q)).map(alertView),
    createSilence: async (body) => silenceView(await a.createSilence(body, process.env.USER ?? 'cli')),
    listSilences: async (q) => (await a.listSilences({ active: q?.active === true })).map(silenceView),
    expireSilence: (id) => a.expireSilence(id),
    createSyntheticCheck: (body) => a.createCheck(body),
    listSyntheticChecks: () => a.listChecks(),
    deleteSyntheticCheck: (name) => a.deleteCheck(name),
  };
}

/** The in-process inference table under the client's names. */
export function inferencesOf(platform: Platform): InferencesApi {
  const i = platform.inferences;
  return {
    listInferences: (q) => i.list(q),
    exportInferences: (q) => (q.format === 'csv' ? csvLines(i.export(q)) : jsonLines(i.export(q))),
    putLabels: (endpoint, labels) => i.putLabels(endpoint, labels),
  };
}

/** The in-process pipeline service under the client's names. */
export function pipelinesOf(platform: Platform): PipelinesApi {
  const p = platform.pipelines;
  return {
    validatePipeline: async (spec, source) => summarizePipeline(p.validate(spec, source)),
    startPipelineRun: (i) => p.start({ text: i.spec, source: i.source, params: i.params, baseDir: i.baseDir, noCache: i.noCache }),
    listPipelineRuns: (q = {}) => p.list({ pipeline: q.pipeline, statuses: q.status ? [q.status] : undefined, limit: q.limit }),
    getPipelineRun: (id) => p.get(id),
    pipelineLogs: async (id, q = {}) => {
      const lines = await p.logs(id, q);
      return { lines, nextAfter: lines.at(-1)?.id ?? q.after ?? 0, status: (await p.get(id)).status };
    },
    decidePipelineRun: (id, decision, d = {}) => (decision === 'approve' ? p.approve(id, d) : p.reject(id, d)),
    cancelPipelineRun: (id) => p.cancel(id),
    retryPipelineRun: (id) => p.retry(id),
    registerPipeline: (spec, source, baseDir) => platform.pipelineTriggers.register(spec, source ?? 'pipeline.yaml', baseDir),
    listPipelineTriggers: () => platform.pipelineTriggers.list(),
    unregisterPipeline: (name) => platform.pipelineTriggers.unregister(name),
  };
}

/** The in-process schedule service under the client's names. */
export function schedulesOf(platform: Platform): SchedulesApi {
  const s = platform.schedules;
  return {
    createSchedule: (input) => s.create(input),
    listSchedules: () => s.list(),
    getSchedule: (ref) => s.get(ref),
    scheduleFirings: (ref, opts) => s.firings(ref, opts),
    pauseSchedule: (ref) => s.pause(ref),
    resumeSchedule: (ref) => s.resume(ref),
    deleteSchedule: (ref) => s.delete(ref),
  };
}
