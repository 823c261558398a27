import { Readable } from 'node:stream';
import type * as S3Sdk from '@aws-sdk/client-s3';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import type * as LibStorage from '@aws-sdk/lib-storage';
import { FluxError } from '../../core/index.js';
import type { ArtifactData, ArtifactEntry, ArtifactStore } from './artifact-store.js';
import { collect, countedStream } from './counted-stream.js';
import { invalidArtifactRoot } from './invalid-artifact-root.js';
import { envValue } from './env-value.js';
import { ObjectKeySpace, rootPrefix } from './object-key-space.js';

/** S3 returns at most 1000 keys a page and DeleteObjects takes at most 1000 keys. */
const PAGE = 1000;
/** 8 MiB parts, 4 in flight: an upload holds at most 32 MiB in memory whatever its size. */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 4;

interface Sdk {
  s3: typeof S3Sdk;
  storage: typeof LibStorage;
}
let sdk: Promise<Sdk> | undefined;
/**
 * The AWS SDK is loaded on first use, not at import: it takes most of a second to load, which
 * every CLI command would pay although most never touch S3.
 */
function loadSdk(): Promise<Sdk> {
  return (sdk ??= Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/lib-storage')]).then(([s3, storage]) => ({ s3, storage })));
}

export interface S3Root {
  bucket: string;
  /** Key prefix without leading or trailing slashes; '' for the bucket root. */
  prefix: string;
}

/** Parses `s3://bucket[/prefix]`, refusing a missing or invalid bucket name and prefixes that climb out. */
export function parseS3Root(uri: string): S3Root {
  const m = /^s3:\/\/([^/?#]*)(\/[^?#]*)?$/i.exec(uri);
  if (m === null) throw invalidArtifactRoot(uri, 's3: roots are s3://bucket/prefix');
  const bucket = m[1] ?? '';
  if (bucket === '') throw invalidArtifactRoot(uri, 'it names no bucket');
  // S3's bucket naming rules: 3-63 lowercase letters, digits, dots and hyphens, alphanumeric at both ends.
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw invalidArtifactRoot(uri, `'${bucket}' is not a valid S3 bucket name`);
  return { bucket, prefix: rootPrefix(uri, m[2] ?? '') };
}

/**
 * The client configuration from the standard AWS environment: credentials from
 * AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN when set (else the SDK's default chain:
 * profiles, web identity, container and instance roles), region from AWS_REGION or
 * AWS_DEFAULT_REGION (us-east-1 when neither is set), endpoint from FLUXOPS_S3_ENDPOINT_URL, else
 * MLflow's MLFLOW_S3_ENDPOINT_URL.
 */
export function s3ClientConfig(env: NodeJS.ProcessEnv): { config: S3ClientConfig; region: string; endpoint: string | undefined } {
  const region = envValue(env, 'AWS_REGION', 'AWS_DEFAULT_REGION') ?? 'us-east-1';
  const config: S3ClientConfig = { region };
  const endpoint = envValue(env, 'FLUXOPS_S3_ENDPOINT_URL', 'MLFLOW_S3_ENDPOINT_URL');
  if (endpoint !== undefined) {
    if (!/^https?:\/\/[^/]/i.test(endpoint)) {
      throw new FluxError('INVALID_PARAMETER_VALUE', `S3 endpoint '${endpoint}' (FLUXOPS_S3_ENDPOINT_URL or MLFLOW_S3_ENDPOINT_URL) must be an http:// or https:// URL`);
    }
    config.endpoint = endpoint;
    // S3-compatible servers (MinIO, Ceph, emulators) address buckets by path, not by host name.
    config.forcePathStyle = true;
    // Many of them reject the trailing checksums the SDK now adds to streamed uploads by default;
    // checksums are then sent only where S3 requires them, unless the standard variables say otherwise.
    if (env.AWS_REQUEST_CHECKSUM_CALCULATION === undefined) config.requestChecksumCalculation = 'WHEN_REQUIRED';
    if (env.AWS_RESPONSE_CHECKSUM_VALIDATION === undefined) config.responseChecksumValidation = 'WHEN_REQUIRED';
  }
  const accessKeyId = envValue(env, 'AWS_ACCESS_KEY_ID');
  const secretAccessKey = envValue(env, 'AWS_SECRET_ACCESS_KEY');
  if (accessKeyId !== undefined && secretAccessKey !== undefined) {
    const sessionToken = envValue(env, 'AWS_SESSION_TOKEN');
    config.credentials = sessionToken === undefined ? { accessKeyId, secretAccessKey } : { accessKeyId, secretAccessKey, sessionToken };
  }
  return { config, region, endpoint };
}

export interface S3StoreOptions {
  /** Where the AWS variables are read from; the process environment by default. */
  env?: NodeJS.ProcessEnv | undefined;
}

/**
 * Artifact store on an S3 bucket (or an S3-compatible server). Objects become visible only when
 * written whole (PutObject, or CompleteMultipartUpload for large streams), so writes are atomic
 * for readers; directories are key prefixes with `/` as the delimiter.
 */
export class S3ArtifactStore implements ArtifactStore {
  readonly uri: string;
  readonly bucket: string;
  /** The endpoint override, or undefined for AWS itself. */
  readonly endpoint: string | undefined;
  private readonly region: string;
  private readonly keys: ObjectKeySpace;
  private readonly config: S3ClientConfig;
  private connection: Promise<{ sdk: Sdk; client: S3Client }> | undefined;

  constructor(uri: string, options: S3StoreOptions = {}) {
    const root = parseS3Root(uri);
    this.bucket = root.bucket;
    this.keys = new ObjectKeySpace(root.prefix);
    this.uri = `s3://${root.bucket}${root.prefix === '' ? '' : `/${root.prefix}`}`;
    const { config, region, endpoint } = s3ClientConfig(options.env ?? process.env);
    this.region = region;
    this.endpoint = endpoint;
    this.config = config;
  }

  /** The SDK and the client, made on first use; the first request resolves the credentials. */
  private s3(): Promise<{ sdk: Sdk; client: S3Client }> {
    return (this.connection ??= loadSdk().then((sdk) => ({ sdk, client: new sdk.s3.S3Client(this.config) })));
  }

  async verify(): Promise<void> {
    const { sdk, client } = await this.s3();
    try {
      await client.send(new sdk.s3.HeadBucketCommand({ Bucket: this.bucket }));
    } catch (e) {
      const where = this.endpoint === undefined ? `in AWS region ${this.region}` : `at ${this.endpoint}`;
      const status = httpStatus(e);
      const reason = e instanceof Error ? e.message || e.name : String(e);
      if (status === 404) throw new FluxError('INVALID_PARAMETER_VALUE', `artifact root ${this.uri}: bucket '${this.bucket}' does not exist ${where}`);
      if (status === 401 || status === 403) {
        throw new FluxError('INVALID_PARAMETER_VALUE', `artifact root ${this.uri}: access to bucket '${this.bucket}' ${where} was refused (HTTP ${status}); check the AWS credentials and region`);
      }
      if (status === 301) throw new FluxError('INVALID_PARAMETER_VALUE', `artifact root ${this.uri}: bucket '${this.bucket}' is not ${where}; set AWS_REGION to the bucket's region`);
      throw new FluxError('TEMPORARILY_UNAVAILABLE', `artifact root ${this.uri}: bucket '${this.bucket}' ${where} could not be reached (${reason})`);
    }
  }

  async put(rel: string, data: ArtifactData): Promise<{ size: number }> {
    const { key } = this.keys.fileKey(rel, () => new FluxError('INVALID_PARAMETER_VALUE', 'artifact path must name a file'));
    const { sdk, client } = await this.s3();
    if (typeof data === 'string' || Buffer.isBuffer(data)) {
      const body = typeof data === 'string' ? Buffer.from(data) : data;
      await client.send(new sdk.s3.PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentLength: body.length }));
      return { size: body.length };
    }
    // Upload sends one PutObject for a stream shorter than a part, else a multipart upload that it
    // aborts when the source fails, so no partial object is ever visible.
    const { stream, bytes } = countedStream(data);
    const upload = new sdk.storage.Upload({ client, params: { Bucket: this.bucket, Key: key, Body: stream }, partSize: PART_SIZE, queueSize: QUEUE_SIZE, leavePartsOnError: false });
    try {
      await upload.done();
    } finally {
      stream.destroy();
    }
    return { size: bytes() };
  }

  async get(rel: string): Promise<Readable> {
    const { key } = this.keys.fileKey(rel, () => absent(rel));
    const { sdk, client } = await this.s3();
    try {
      const out = await client.send(new sdk.s3.GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!(out.Body instanceof Readable)) throw new FluxError('INTERNAL_ERROR', `S3 returned no stream for artifact '${rel}'`);
      return out.Body;
    } catch (e) {
      if (httpStatus(e) === 404) throw absent(rel);
      throw e;
    }
  }

  async read(rel: string): Promise<Buffer> {
    return collect(await this.get(rel));
  }

  async exists(rel: string): Promise<boolean> {
    const { prefix, segments } = this.keys.dirPrefix(rel);
    if (segments.length === 0) return true;
    const key = prefix.slice(0, -1);
    const { sdk, client } = await this.s3();
    // A file under that key, or a directory (any key below it); asked at once to save a round trip.
    const [file, dir] = await Promise.all([
      client.send(new sdk.s3.HeadObjectCommand({ Bucket: this.bucket, Key: key })).then(
        () => true,
        (e: unknown) => {
          if (httpStatus(e) === 404) return false;
          throw e;
        },
      ),
      client.send(new sdk.s3.ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, MaxKeys: 1 })).then((page) => (page.KeyCount ?? page.Contents?.length ?? 0) > 0),
    ]);
    return file || dir;
  }

  async list(dir: string): Promise<ArtifactEntry[]> {
    const { prefix, segments } = this.keys.dirPrefix(dir);
    const { sdk, client } = await this.s3();
    const out: ArtifactEntry[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new sdk.s3.ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, Delimiter: '/', MaxKeys: PAGE, ContinuationToken: token }));
      for (const p of page.CommonPrefixes ?? []) {
        const path = p.Prefix === undefined ? undefined : this.keys.childPath(segments, prefix, p.Prefix);
        if (path !== undefined) out.push({ path, isDir: true });
      }
      for (const o of page.Contents ?? []) {
        // A key ending in '/' is a "folder" marker some tools write; the folder shows as a prefix.
        if (o.Key === undefined || o.Key.endsWith('/')) continue;
        const path = this.keys.childPath(segments, prefix, o.Key);
        if (path !== undefined) out.push({ path, isDir: false, size: o.Size ?? 0 });
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return out.sort((a, b) => a.path.localeCompare(b.path));
  }

  async delete(rel: string): Promise<void> {
    const { key } = this.keys.fileKey(rel, () => new FluxError('INVALID_PARAMETER_VALUE', 'refusing to delete the artifact store root'));
    const { sdk, client } = await this.s3();
    await client.send(new sdk.s3.DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    // Then everything below it, a page at a time; each page is deleted in one request.
    let token: string | undefined;
    do {
      const page = await client.send(new sdk.s3.ListObjectsV2Command({ Bucket: this.bucket, Prefix: `${key}/`, MaxKeys: PAGE, ContinuationToken: token }));
      const objects = (page.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [{ Key: o.Key }]));
      if (objects.length > 0) {
        const res = await client.send(new sdk.s3.DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: objects, Quiet: true } }));
        const failed = res.Errors?.[0];
        if (failed !== undefined) throw new FluxError('INTERNAL_ERROR', `could not delete artifact '${failed.Key ?? rel}' from bucket '${this.bucket}' (${failed.Code ?? 'unknown error'})`);
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }
}

function absent(rel: string): FluxError {
  return new FluxError('RESOURCE_DOES_NOT_EXIST', `artifact '${rel}' does not exist`);
}

function httpStatus(e: unknown): number | undefined {
  const meta = (e as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata;
  return meta?.httpStatusCode;
}
