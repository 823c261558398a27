import { describe, expect, it } from 'vitest';
import { FluxError } from '../../src/core/index.js';
import { localSourcePath, pathWithinRun } from '../../src/registry/local-source.js';
import { parseSource } from '../../src/registry/model-source.js';

describe('which model-version sources are local (MLflow\'s is_local_uri)', () => {
  it('a path without a scheme or a file: URI is local, resolved with percent-decoding and `..` applied', () => {
    expect(localSourcePath('/etc', '/srv')).toBe('/etc');
    expect(localSourcePath('model', '/srv')).toBe('/srv/model');
    expect(localSourcePath('file:///a/b/../c', '/srv')).toBe('/a/c');
    expect(localSourcePath('FILE://localhost/a%20b?x=1#f', '/srv')).toBe('/a b');
    expect(localSourcePath('file:rel/m', '/srv')).toBe('/srv/rel/m');
    expect(localSourcePath('/a/%2e%2e/etc', '/srv')).toBe('/etc');
  });

  it('every other scheme is not local', () => {
    for (const s of ['runs:/abc/model', 'models:/m/1', 'mlflow-artifacts:/0/x', 's3://b/k', 'https://h/m', 'dbfs:/x', 'hdfs://nn/x']) expect(localSourcePath(s)).toBeUndefined();
  });

  it('a file: URI naming another host is refused', () => {
    expect(() => localSourcePath('file://evil.example/etc')).toThrow(FluxError);
  });

  it('containment is by path segments, not by text prefix', () => {
    expect(pathWithinRun('/r/artifacts/model', '/r/artifacts')).toEqual(['model']);
    expect(pathWithinRun('/r/artifacts', '/r/artifacts')).toEqual([]);
    expect(pathWithinRun('/r/artifacts-evil/model', '/r/artifacts')).toBeUndefined();
    expect(pathWithinRun('/etc', '/r/artifacts')).toBeUndefined();
  });

  it('parseSource checks locality before `..`, as MLflow does, and still refuses NUL', () => {
    expect(parseSource('/x/../etc')).toEqual({ kind: 'local', path: '/etc' });
    expect(() => parseSource('/x/%00')).toThrow(/relative path references/);
    expect(() => parseSource('s3://b/../x')).toThrow(/relative path references/);
  });
});
