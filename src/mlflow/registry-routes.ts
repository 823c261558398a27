import type { FastifyPluginAsync } from 'fastify';
import type { ModelVersion } from '../registry/index.js';
import { callerOf } from '../http/index.js';
import type { MlflowRouteDeps } from './index.js';
import { modelVersionJson, registeredModelJson, tagList } from './registry-convert.js';
import { MlflowFields } from './mlflow-fields.js';
import { missing } from './mlflow-refusals.js';
import { mlflowRouter } from './mlflow-router.js';

/** MLflow's order for version searches that name none: recently changed first. */
const DEFAULT_VERSION_ORDER = ['last_updated_timestamp DESC', 'name ASC', 'version_number DESC'];


/**
 * MLflow's model registry REST API (registered models, versions, stages, aliases, tags) as a thin
 * adapter over RegistryService: each handler reads MLflow's fields (query string for GET, JSON
 * body otherwise), calls the service, and writes MLflow's JSON. Registration follows MLflow's
 * protocol: a source or run FluxOps cannot verify is recorded, READY, with a status message
 * saying so; a source FluxOps holds is inspected for its flavor and signature.
 */
export const mlflowRegistryRoutes: FastifyPluginAsync<MlflowRouteDeps> = async (app, { platform, hidden }) => {
  const r = platform.registry;
  const route = mlflowRouter(app, hidden);

  const version = (f: MlflowFields): string => {
    const v = f.idString('version');
    if (v === undefined) throw missing('version');
    return v;
  };
  const one = (mv: ModelVersion) => ({ model_version: modelVersionJson(mv, true) });

  // ---- registered models ----
  route('POST', '/registered-models/create', 'write', 'Create a registered model', 'Body: name, tags? [{key, value}], description?. Returns {registered_model}; RESOURCE_ALREADY_EXISTS (400) when the name is taken.', async (f, req) => {
    const model = await r.createRegisteredModel({ name: f.requiredString('name'), description: f.string('description'), tags: tagList(f, 'tags') }, callerOf(req));
    return { registered_model: registeredModelJson(model) };
  });

  route('GET', '/registered-models/get', 'read', 'Get a registered model', 'Query: name. Returns {registered_model} with its latest version per stage.', async (f) => ({
    registered_model: registeredModelJson(await r.getRegisteredModel(f.requiredString('name'))),
  }));

  route('POST', '/registered-models/rename', 'write', 'Rename a registered model', 'Body: name, new_name. Versions, tags and aliases move with it. Returns {registered_model}.', async (f) => {
    const model = await r.renameRegisteredModel(f.requiredString('name'), f.requiredString('new_name'));
    return { registered_model: registeredModelJson(model) };
  });

  route('PATCH', '/registered-models/update', 'write', 'Update a registered model', 'Body: name, description. Returns {registered_model}.', async (f) => {
    const name = f.requiredString('name');
    const model = f.has('description') ? await r.updateRegisteredModel(name, f.string('description')) : await r.getRegisteredModel(name);
    return { registered_model: registeredModelJson(model) };
  });

  route('DELETE', '/registered-models/delete', 'write', 'Delete a registered model', 'Body: name. Deletes its versions, tags and aliases too.', async (f, req) => {
    await r.deleteRegisteredModel(f.requiredString('name'), callerOf(req));
    return {};
  });

  route(
    'GET',
    '/registered-models/search', 'read',
    'Search registered models',
    "Query: filter (name = 'x', name LIKE/ILIKE 'x%', tags.<key> = 'v', joined by AND), order_by [] (name, last_updated_timestamp, creation_timestamp; ASC|DESC), max_results (≤ 1000, default 100), page_token. Returns {registered_models, next_page_token}.",
    async (f) => {
      const page = await r.searchRegisteredModels({
        filter: f.string('filter'),
        orderBy: f.stringList('order_by'),
        maxResults: f.int64('max_results'),
        pageToken: f.string('page_token') || undefined,
      });
      return {
        ...(page.items.length > 0 ? { registered_models: page.items.map(registeredModelJson) } : {}),
        ...(page.nextPageToken !== undefined ? { next_page_token: page.nextPageToken } : {}),
      };
    },
  );

  route(['POST', 'GET'], '/registered-models/get-latest-versions', 'read', 'Latest versions per stage', 'Fields: name, stages [] (all stages when empty). Returns {model_versions}, the newest version in each stage.', async (f) => {
    const versions = await r.getLatestVersions(f.requiredString('name'), f.stringList('stages'));
    return versions.length > 0 ? { model_versions: versions.map((v) => modelVersionJson(v, false)) } : {};
  });

  route('POST', '/registered-models/set-tag', 'write', 'Set a registered model tag', 'Body: name, key, value.', async (f) => {
    await r.setRegisteredModelTag(f.requiredString('name'), f.requiredString('key'), f.requiredString('value'));
    return {};
  });

  route('DELETE', '/registered-models/delete-tag', 'write', 'Delete a registered model tag', 'Body: name, key.', async (f) => {
    await r.deleteRegisteredModelTag(f.requiredString('name'), f.requiredString('key'));
    return {};
  });

  route('POST', '/registered-models/alias', { permission: 'write', resource: (req) => { const f = MlflowFields.of(req); return { model: f.string('name'), alias: f.string('alias') }; } }, 'Set an alias', 'Body: name, alias, version. Moves the alias if it exists; a server serving name@alias swaps to the new version.', async (f, req) => {
    await r.setAlias(f.requiredString('name'), f.requiredString('alias'), version(f), callerOf(req));
    return {};
  });

  route('DELETE', '/registered-models/alias', { permission: 'write', resource: (req) => { const f = MlflowFields.of(req); return { model: f.string('name'), alias: f.string('alias') }; } }, 'Delete an alias', 'Body: name, alias. RESOURCE_DOES_NOT_EXIST (404) when the alias is not set.', async (f, req) => {
    await r.deleteAlias(f.requiredString('name'), f.requiredString('alias'), callerOf(req));
    return {};
  });

  route('GET', '/registered-models/alias', 'read', 'Resolve an alias', 'Query: name, alias. Returns {model_version}; RESOURCE_DOES_NOT_EXIST (404) when the alias is not set.', async (f) =>
    one(await r.getVersionByAlias(f.requiredString('name'), f.requiredString('alias'))),
  );

  // ---- model versions ----
  route(
    'POST',
    '/model-versions/create', 'write',
    'Create a model version',
    'Body: name, source (runs:/<run_id>/<path>, mlflow-artifacts:/<path>, models:/<model_id>, or any URI), run_id?, tags?, run_link?, description?, model_id?. ' +
      'Returns {model_version} READY: a folder FluxOps holds is inspected (MLmodel flavors and signature; servable or not is in status_message), ' +
      'anything else is recorded without verification. Versions are 1, 2, 3 … and never reused.',
    async (f, req) => {
      const mv = await r.createModelVersion({
        name: f.requiredString('name'),
        source: f.requiredString('source'),
        runId: f.string('run_id'),
        tags: tagList(f, 'tags'),
        runLink: f.string('run_link'),
        description: f.string('description'),
        modelId: f.string('model_id'),
      }, { lenient: true, ...callerOf(req) });
      return one(mv);
    },
  );

  route('GET', '/model-versions/get', 'read', 'Get a model version', 'Query: name, version. Returns {model_version}.', async (f) => one(await r.getModelVersion(f.requiredString('name'), version(f))));

  route('PATCH', '/model-versions/update', 'write', 'Update a model version', 'Body: name, version, description. Returns {model_version}.', async (f) => {
    const name = f.requiredString('name');
    const v = version(f);
    return one(f.has('description') ? await r.updateModelVersion(name, v, f.string('description')) : await r.getModelVersion(name, v));
  });

  route('DELETE', '/model-versions/delete', 'write', 'Delete a model version', 'Body: name, version. Its number is never handed out again; aliases on it go.', async (f, req) => {
    await r.deleteModelVersion(f.requiredString('name'), version(f), callerOf(req));
    return {};
  });

  route(
    'GET',
    '/model-versions/search', 'read',
    'Search model versions',
    "Query: filter (name, run_id (also IN), source_path, version_number, tags.<key>; =, !=, LIKE, ILIKE), order_by [] (name, version_number, creation_timestamp, last_updated_timestamp), max_results (≤ 200000), page_token. Returns {model_versions, next_page_token}.",
    async (f) => {
      const orderBy = f.stringList('order_by');
      const page = await r.searchModelVersions({
        filter: f.string('filter'),
        orderBy: orderBy.length > 0 ? orderBy : DEFAULT_VERSION_ORDER,
        maxResults: f.int64('max_results'),
        pageToken: f.string('page_token') || undefined,
      });
      return {
        ...(page.items.length > 0 ? { model_versions: page.items.map((v) => modelVersionJson(v, false)) } : {}),
        ...(page.nextPageToken !== undefined ? { next_page_token: page.nextPageToken } : {}),
      };
    },
  );

  route(
    'POST',
    '/model-versions/transition-stage', { permission: 'write', resource: (req) => { const f = MlflowFields.of(req); return { model: f.string('name'), alias: f.string('stage') }; } },
    'Transition a version to a stage',
    'Body: name, version, stage (None, Staging, Production, Archived), archive_existing_versions (true moves the versions already in Staging/Production to Archived). Returns {model_version}.',
    async (f) => {
      const mv = await r.transitionStage(f.requiredString('name'), version(f), f.requiredString('stage'), f.bool('archive_existing_versions') ?? false);
      return one(mv);
    },
  );

  route('GET', '/model-versions/get-download-uri', 'read', 'Where a version can be downloaded from', "Query: name, version. Returns {artifact_uri}: mlflow-artifacts:/ of the version's folder, or its source when outside FluxOps.", async (f) => ({
    artifact_uri: await r.getDownloadUri(f.requiredString('name'), version(f)),
  }));

  route('POST', '/model-versions/set-tag', 'write', 'Set a model version tag', 'Body: name, version, key, value.', async (f) => {
    await r.setModelVersionTag(f.requiredString('name'), version(f), f.requiredString('key'), f.requiredString('value'));
    return {};
  });

  route('DELETE', '/model-versions/delete-tag', 'write', 'Delete a model version tag', 'Body: name, version, key.', async (f) => {
    await r.deleteModelVersionTag(f.requiredString('name'), version(f), f.requiredString('key'));
    return {};
  });
};
