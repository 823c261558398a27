import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FluxError, resolveConfig } from '../../src/core/index.js';
import { AzureBlobArtifactStore, LocalArtifactStore, S3ArtifactStore, openArtifactStore, parseAzureRoot, parseS3Root } from '../../src/storage/artifacts/index.js';
import { tmpDir } from '../helpers/backends.js';

const AZURE_ENV = { AZURE_STORAGE_ACCOUNT: 'acct', AZURE_STORAGE_KEY: Buffer.from('k').toString('base64') };

describe('openArtifactStore: the scheme picks the store', () => {
  it('opens folders and file: URIs as local stores', () => {
    const dir = tmpDir();
    for (const root of [dir, `file://${dir}`, `file://localhost${dir}`, `file:${dir}`]) {
      const store = openArtifactStore(root);
      expect(store).toBeInstanceOf(LocalArtifactStore);
      expect(store.uri).toBe(`file://${dir}`);
    }
  });

  it('opens s3:// roots as S3 stores, without any I/O', () => {
    const store = openArtifactStore('s3://my-bucket/team/artifacts/', {});
    expect(store).toBeInstanceOf(S3ArtifactStore);
    expect(store.uri).toBe('s3://my-bucket/team/artifacts');
    expect(openArtifactStore('S3://my-bucket', {}).uri).toBe('s3://my-bucket');
    expect((openArtifactStore('s3://b-1', { MLFLOW_S3_ENDPOINT_URL: 'http://minio:9000' }) as S3ArtifactStore).endpoint).toBe('http://minio:9000');
    // FluxOps' own variable wins over MLflow's.
    expect((openArtifactStore('s3://b-1', { FLUXOPS_S3_ENDPOINT_URL: 'http://a:1', MLFLOW_S3_ENDPOINT_URL: 'http://b:2' }) as S3ArtifactStore).endpoint).toBe('http://a:1');
    expect(parseS3Root('s3://bucket.with.dots/a//b/')).toEqual({ bucket: 'bucket.with.dots', prefix: 'a/b' });
  });

  it('opens azure:// and wasbs:// roots as Azure Blob stores, without any I/O', () => {
    const a = openArtifactStore('azure://models/team', AZURE_ENV);
    expect(a).toBeInstanceOf(AzureBlobArtifactStore);
    expect(a.uri).toBe('azure://models/team');
    expect((a as AzureBlobArtifactStore).endpoint).toBe('https://acct.blob.core.windows.net');
    const w = openArtifactStore('wasbs://models@other.blob.core.windows.net/x/y', { AZURE_STORAGE_SAS_TOKEN: '?sv=1&sig=secret' });
    expect(w.uri).toBe('wasbs://models@other.blob.core.windows.net/x/y');
    expect((w as AzureBlobArtifactStore).endpoint).not.toMatch(/secret/);
    expect(parseAzureRoot('wasbs://c-1@acct2.blob.core.chinacloudapi.cn')).toEqual({ scheme: 'wasbs', container: 'c-1', prefix: '', account: 'acct2', host: 'acct2.blob.core.chinacloudapi.cn' });
    const cs = 'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=a2V5;EndpointSuffix=core.windows.net';
    expect(openArtifactStore('wasbs://models@acct.blob.core.windows.net', { AZURE_STORAGE_CONNECTION_STRING: cs })).toBeInstanceOf(AzureBlobArtifactStore);
  });

  const refused: Array<[string, RegExp]> = [
    ['s3://', /no bucket/],
    ['s3:///prefix', /no bucket/],
    ['s3:bucket', /s3:\/\/bucket\/prefix/],
    ['s3://Bad_Bucket/x', /not a valid S3 bucket name/],
    ['s3://bucket/../x', /'\.\.'/],
    ['azure://', /no container/],
    ['azure://UPPER/x', /not a valid Azure container name/],
    ['wasbs://nocontainer', /container@account/],
    ['wasbs://c@/x', /not a blob service host/],
    ['wasbs://c@example.com/x', /not a blob service host/],
    ['gs://bucket/x', /scheme 'gs:' is not supported/],
    ['http://example.com/x', /scheme 'http:' is not supported/],
    ['file://otherhost/x', /on this machine/],
    ['', /empty/],
  ];

  it.each(refused)('refuses %j with one sentence naming the root and the accepted forms', (root, why) => {
    let error: unknown;
    try {
      openArtifactStore(root, AZURE_ENV);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FluxError);
    const e = error as FluxError;
    expect(e.code).toBe('INVALID_PARAMETER_VALUE');
    expect(e.message).toMatch(why);
    expect(e.message).toContain(`artifact root '${root}'`);
    expect(e.message).toContain('s3://bucket[/prefix], azure://container[/prefix] or wasbs://container@account.blob.core.windows.net[/prefix]');
    expect(e.message).not.toMatch(/\n/);
  });

  it('refuses Azure roots without credentials, and a connection string for another account, naming the variables', () => {
    expect(() => openArtifactStore('azure://models', {})).toThrow(/AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT .* AZURE_STORAGE_KEY, AZURE_STORAGE_ACCESS_KEY or AZURE_STORAGE_SAS_TOKEN/);
    expect(() => openArtifactStore('wasbs://models@acct.blob.core.windows.net', {})).toThrow(/for account 'acct'/);
    const cs = 'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=a2V5;EndpointSuffix=core.windows.net';
    expect(() => openArtifactStore('wasbs://models@other.blob.core.windows.net', { AZURE_STORAGE_CONNECTION_STRING: cs })).toThrow(/names storage account 'other' but AZURE_STORAGE_CONNECTION_STRING is for account 'acct'/);
    expect(() => openArtifactStore('s3://bucket', { FLUXOPS_S3_ENDPOINT_URL: 'minio:9000' })).toThrow(/must be an http:\/\/ or https:\/\/ URL/);
  });

  it('never prints a secret put into the root', () => {
    expect(() => openArtifactStore('wasbs://nocontainer?sig=topsecret', {})).toThrow(/^(?!.*topsecret)/);
  });
});

describe('resolveConfig: artifact roots', () => {
  it('keeps URIs with a scheme intact and resolves only plain paths and file: roots', () => {
    const cwd = process.cwd();
    const at = (root: string) => resolveConfig({ home: '/tmp/h' }, { FLUXOPS_ARTIFACT_ROOT: root }).artifactRoot;
    expect(at('s3://bucket/x')).toBe('s3://bucket/x');
    expect(at('azure://c/p')).toBe('azure://c/p');
    expect(at('wasbs://c@a.blob.core.windows.net/p')).toBe('wasbs://c@a.blob.core.windows.net/p');
    expect(at('s3://')).toBe('s3://'); // left for openArtifactStore to refuse with its sentence
    expect(at('relative/dir')).toBe(path.join(cwd, 'relative/dir'));
    expect(at('file:///abs/dir')).toBe('/abs/dir');
    expect(at('file:rel')).toBe(path.join(cwd, 'rel'));
    expect(resolveConfig({ home: '/tmp/h' }, {}).artifactRoot).toBe('/tmp/h/artifacts');
  });
});
