import { Readable } from 'node:stream';
import type * as AzureSdk from '@azure/storage-blob';
import type { BlobServiceClient, ContainerClient, StoragePipelineOptions } from '@azure/storage-blob';
import { FluxError } from '../../core/index.js';
import type { ArtifactData, ArtifactEntry, ArtifactStore } from './artifact-store.js';
import { collect, countedStream } from './counted-stream.js';
import { invalidArtifactRoot } from './invalid-artifact-root.js';
import { envValue } from './env-value.js';
import { ObjectKeySpace, rootPrefix } from './object-key-space.js';

/** Listing pages of 1000 (as S3's), so memory per page stays small and pagination is always exercised alike. */
const PAGE = 1000;
/** 8 MiB blocks, 4 in flight: a streamed upload holds at most about 32 MiB in memory whatever its size. */
const BLOCK_SIZE = 8 * 1024 * 1024;
const CONCURRENCY = 4;
/** A Blob Batch request holds at most 256 sub-requests. */
const BATCH = 256;
/** Parallel single-blob deletes where Blob Batch is refused (accounts with a hierarchical namespace). */
const DELETE_CONCURRENCY = 16;

export interface AzureRoot {
  scheme: 'azure' | 'wasbs';
  container: string;
  /** Blob name prefix without leading or trailing slashes; '' for the container root. */
  prefix: string;
  /** From a wasbs:// root's host; azure:// roots take the account from the environment. */
  account?: string | undefined;
  /** The blob service host of a wasbs:// root (`account.blob.core.windows.net`, or another cloud's suffix). */
  host?: string | undefined;
}

/**
 * Parses `azure://container[/prefix]` and MLflow's `wasbs://container@account.blob.core.windows.net[/prefix]`.
 */
export function parseAzureRoot(uri: string): AzureRoot {
  const azure = /^azure:\/\/([^/?#@]*)(\/[^?#]*)?$/i.exec(uri);
  if (azure !== null) return { scheme: 'azure', container: containerName(uri, azure[1] ?? ''), prefix: rootPrefix(uri, azure[2] ?? '') };
  const wasbs = /^wasbs:\/\/([^/?#]*)(\/[^?#]*)?$/i.exec(uri);
  if (wasbs === null) throw invalidArtifactRoot(uri, 'Azure roots are azure://container/prefix or wasbs://container@account.blob.core.windows.net/prefix');
  const authority = wasbs[1] ?? '';
  const at = authority.indexOf('@');
  if (at < 0) throw invalidArtifactRoot(uri, 'a wasbs:// root names its container and account as container@account.blob.core.windows.net');
  const host = authority.slice(at + 1).toLowerCase();
  const account = /^([a-z0-9]{3,24})\.blob\.[a-z0-9.-]+$/.exec(host)?.[1];
  if (account === undefined) throw invalidArtifactRoot(uri, `'${host}' is not a blob service host such as account.blob.core.windows.net`);
  return { scheme: 'wasbs', container: containerName(uri, authority.slice(0, at)), prefix: rootPrefix(uri, wasbs[2] ?? ''), account, host };
}

function containerName(uri: string, name: string): string {
  if (name === '') throw invalidArtifactRoot(uri, 'it names no container');
  // Azure's container naming rules: 3-63 lowercase letters, digits and single hyphens, alphanumeric at both ends.
  if (!/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$/.test(name)) throw invalidArtifactRoot(uri, `'${name}' is not a valid Azure container name`);
  return name;
}

const CREDENTIALS_HELP =
  'set AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT (implied by a wasbs:// root) with AZURE_STORAGE_KEY, AZURE_STORAGE_ACCESS_KEY or AZURE_STORAGE_SAS_TOKEN';

let sdk: Promise<typeof AzureSdk> | undefined;
/** The Azure SDK is loaded on first use, not at import, so CLI commands that never touch Azure do not pay for it. */
function loadSdk(): Promise<typeof AzureSdk> {
  return (sdk ??= import('@azure/storage-blob'));
}

/** How to reach the blob service: its URL (for messages, never with a SAS) and a maker for the client. */
export interface AzureConnection {
  endpoint: string;
  client(sdk: typeof AzureSdk): BlobServiceClient;
}

/**
 * The blob service connection from the environment, in MLflow's order: a connection string, else
 * an account key, else a SAS token. The account is the wasbs:// root's, else AZURE_STORAGE_ACCOUNT.
 * Checked here, without the SDK, so a root with no usable credentials is refused when opened.
 */
export function azureConnection(root: AzureRoot, uri: string, env: NodeJS.ProcessEnv): AzureConnection {
  // Three tries a second apart at first (the SDK's default is four, four seconds apart), so a
  // server whose storage is unreachable says so at start within seconds rather than a minute.
  const options: StoragePipelineOptions = { retryOptions: { maxTries: 3, retryDelayInMs: 1000 } };
  const connectionString = envValue(env, 'AZURE_STORAGE_CONNECTION_STRING');
  if (connectionString !== undefined) {
    const parts = connectionStringParts(connectionString);
    const account = parts.get('accountname');
    if (root.account !== undefined && account !== undefined && account.toLowerCase() !== root.account) {
      throw new FluxError('INVALID_PARAMETER_VALUE', `artifact root ${uri} names storage account '${root.account}' but AZURE_STORAGE_CONNECTION_STRING is for account '${account}'`);
    }
    const endpoint =
      parts.get('blobendpoint') ??
      (parts.get('usedevelopmentstorage') === 'true' ? 'http://127.0.0.1:10000/devstoreaccount1' : `${parts.get('defaultendpointsprotocol') ?? 'https'}://${account ?? '?'}.blob.${parts.get('endpointsuffix') ?? 'core.windows.net'}`);
    return {
      endpoint: endpoint.replace(/\/+$/, ''),
      client(azure) {
        try {
          return azure.BlobServiceClient.fromConnectionString(connectionString, options);
        } catch (e) {
          throw new FluxError('INVALID_PARAMETER_VALUE', `AZURE_STORAGE_CONNECTION_STRING is not a valid connection string (${e instanceof Error ? e.message : String(e)})`);
        }
      },
    };
  }
  const account = root.account ?? envValue(env, 'AZURE_STORAGE_ACCOUNT', 'AZURE_STORAGE_ACCOUNT_NAME')?.toLowerCase();
  if (account === undefined) throw new FluxError('INVALID_PARAMETER_VALUE', `artifact root ${uri} needs Azure credentials: ${CREDENTIALS_HELP}`);
  const endpoint = `https://${root.host ?? `${account}.blob.core.windows.net`}`;
  const key = envValue(env, 'AZURE_STORAGE_KEY', 'AZURE_STORAGE_ACCESS_KEY');
  if (key !== undefined) return { endpoint, client: (azure) => new azure.BlobServiceClient(endpoint, new azure.StorageSharedKeyCredential(account, key), options) };
  const sas = envValue(env, 'AZURE_STORAGE_SAS_TOKEN');
  if (sas !== undefined) return { endpoint, client: (azure) => new azure.BlobServiceClient(`${endpoint}?${sas.replace(/^\?/, '')}`, undefined, options) };
  throw new FluxError('INVALID_PARAMETER_VALUE', `artifact root ${uri} needs Azure credentials for account '${account}': ${CREDENTIALS_HELP}`);
}

/** `Key=value;…` pairs of a connection string, keys lower-cased (values may hold '=', as keys and SAS do). */
function connectionStringParts(cs: string): Map<string, string> {
  const parts = new Map<string, string>();
  for (const item of cs.split(';')) {
    const at = item.indexOf('=');
    if (at > 0) parts.set(item.slice(0, at).trim().toLowerCase(), item.slice(at + 1).trim());
  }
  return parts;
}

export interface AzureStoreOptions {
  /** Where the AZURE_STORAGE_* variables are read from; the process environment by default. */
  env?: NodeJS.ProcessEnv | undefined;
}

/**
 * Artifact store on an Azure Blob container. Small values are one Put Blob; streams are staged as
 * blocks and committed with one Put Block List, so a blob changes only when written whole; the
 * hierarchy is blob name prefixes with `/` as the delimiter.
 */
export class AzureBlobArtifactStore implements ArtifactStore {
  readonly uri: string;
  readonly container: string;
  /** The blob service URL (without any SAS), for messages. */
  readonly endpoint: string;
  private readonly keys: ObjectKeySpace;
  private readonly connection: AzureConnection;
  private containerClient: Promise<ContainerClient> | undefined;
  /** Set once the service refused a Blob Batch request, so later deletes go one by one at once. */
  private batchRefused: boolean | undefined;

  constructor(uri: string, options: AzureStoreOptions = {}) {
    const root = parseAzureRoot(uri);
    this.container = root.container;
    this.keys = new ObjectKeySpace(root.prefix);
    const tail = root.prefix === '' ? '' : `/${root.prefix}`;
    this.uri = root.scheme === 'wasbs' ? `wasbs://${root.container}@${root.host ?? ''}${tail}` : `azure://${root.container}${tail}`;
    this.connection = azureConnection(root, uri, options.env ?? process.env);
    this.endpoint = this.connection.endpoint;
  }

  /** The container's client, made (with the SDK loaded) on first use; making it does no I/O. */
  private container$(): Promise<ContainerClient> {
    return (this.containerClient ??= loadSdk().then((azure) => this.connection.client(azure).getContainerClient(this.container)));
  }

  async verify(): Promise<void> {
    const client = await this.container$();
    try {
      // Listing needs only the permission the store needs anyway (a container SAS may not allow
      // reading the container's properties).
      await client.listBlobsFlat({ prefix: this.keys.prefix === '' ? undefined : `${this.keys.prefix}/` }).byPage({ maxPageSize: 1 }).next();
    } catch (e) {
      const status = httpStatus(e);
      const where = `at ${this.endpoint}`;
      if (status === 404) throw new FluxError('INVALID_PARAMETER_VALUE', `artifact root ${this.uri}: container '${this.container}' does not exist ${where}`);
      if (status === 401 || status === 403) {
        throw new FluxError('INVALID_PARAMETER_VALUE', `artifact root ${this.uri}: access to container '${this.container}' ${where} was refused (HTTP ${status}); check the AZURE_STORAGE_* credentials`);
      }
      const reason = e instanceof Error ? e.message.split('\n')[0] : String(e);
      throw new FluxError('TEMPORARILY_UNAVAILABLE', `artifact root ${this.uri}: container '${this.container}' ${where} could not be reached (${reason})`);
    }
  }

  async put(rel: string, data: ArtifactData): Promise<{ size: number }> {
    const client = await this.container$();
    const { key } = this.keys.fileKey(rel, () => new FluxError('INVALID_PARAMETER_VALUE', 'artifact path must name a file'));
    const blob = client.getBlockBlobClient(key);
    if (typeof data === 'string' || Buffer.isBuffer(data)) {
      const body = typeof data === 'string' ? Buffer.from(data) : data;
      await blob.uploadData(body, { blockSize: BLOCK_SIZE, concurrency: CONCURRENCY });
      return { size: body.length };
    }
    // Blocks staged by a failed upload stay uncommitted and invisible; the service drops them.
    const { stream, bytes } = countedStream(data);
    try {
      await blob.uploadStream(stream, BLOCK_SIZE, CONCURRENCY);
    } finally {
      stream.destroy();
    }
    return { size: bytes() };
  }

  async get(rel: string): Promise<Readable> {
    const client = await this.container$();
    const { key } = this.keys.fileKey(rel, () => absent(rel));
    try {
      const res = await client.getBlobClient(key).download();
      const body = res.readableStreamBody;
      if (!(body instanceof Readable)) throw new FluxError('INTERNAL_ERROR', `Azure returned no stream for artifact '${rel}'`);
      return body;
    } catch (e) {
      if (httpStatus(e) === 404) throw absent(rel);
      throw e;
    }
  }

  async read(rel: string): Promise<Buffer> {
    return collect(await this.get(rel));
  }

  async exists(rel: string): Promise<boolean> {
    const client = await this.container$();
    const { prefix, segments } = this.keys.dirPrefix(rel);
    if (segments.length === 0) return true;
    const [file, dir] = await Promise.all([
      client.getBlobClient(prefix.slice(0, -1)).exists(),
      client
        .listBlobsFlat({ prefix })
        .byPage({ maxPageSize: 1 })
        .next()
        .then((page) => (page.done === true ? false : page.value.segment.blobItems.length > 0)),
    ]);
    return file || dir;
  }

  async list(dir: string): Promise<ArtifactEntry[]> {
    const client = await this.container$();
    const { prefix, segments } = this.keys.dirPrefix(dir);
    const out: ArtifactEntry[] = [];
    // The iterator follows the continuation markers itself.
    for await (const page of client.listBlobsByHierarchy('/', { prefix }).byPage({ maxPageSize: PAGE })) {
      for (const p of page.segment.blobPrefixes ?? []) {
        const path = this.keys.childPath(segments, prefix, p.name);
        if (path !== undefined) out.push({ path, isDir: true });
      }
      for (const b of page.segment.blobItems) {
        if (b.name.endsWith('/')) continue;
        const path = this.keys.childPath(segments, prefix, b.name);
        if (path !== undefined) out.push({ path, isDir: false, size: b.properties.contentLength ?? 0 });
      }
    }
    return out.sort((a, b) => a.path.localeCompare(b.path));
  }

  async delete(rel: string): Promise<void> {
    const client = await this.container$();
    const { key } = this.keys.fileKey(rel, () => new FluxError('INVALID_PARAMETER_VALUE', 'refusing to delete the artifact store root'));
    await client.getBlobClient(key).deleteIfExists({ deleteSnapshots: 'include' });
    for await (const page of client.listBlobsFlat({ prefix: `${key}/` }).byPage({ maxPageSize: PAGE })) {
      const names = page.segment.blobItems.map((b) => b.name);
      for (let i = 0; i < names.length; i += BATCH) await this.deleteBlobs(names.slice(i, i + BATCH));
    }
  }

  /** Deletes up to 256 blobs in one Blob Batch request, or one by one where batches are refused. */
  private async deleteBlobs(names: string[]): Promise<void> {
    const client = await this.container$();
    if (this.batchRefused !== true) {
      try {
        const res = await client.getBlobBatchClient().deleteBlobs(names.map((n) => client.getBlobClient(n)), { deleteSnapshots: 'include' });
        // A blob deleted by someone else meanwhile is as good as deleted here.
        const failed = res.subResponses.find((r) => r.status >= 300 && r.status !== 404);
        if (failed !== undefined) throw new FluxError('INTERNAL_ERROR', `could not delete artifacts from container '${this.container}' (${failed.errorCode ?? failed.statusMessage})`);
        return;
      } catch (e) {
        const status = httpStatus(e);
        if (status === undefined || status < 400 || status >= 500 || status === 404) throw e;
        this.batchRefused = true;
      }
    }
    for (let i = 0; i < names.length; i += DELETE_CONCURRENCY) {
      await Promise.all(names.slice(i, i + DELETE_CONCURRENCY).map((n) => client.getBlobClient(n).deleteIfExists({ deleteSnapshots: 'include' })));
    }
  }
}

function absent(rel: string): FluxError {
  return new FluxError('RESOURCE_DOES_NOT_EXIST', `artifact '${rel}' does not exist`);
}

function httpStatus(e: unknown): number | undefined {
  const status = (e as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}
