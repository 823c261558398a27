import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/core/index.js';
import { sampledSteps } from '../../src/mlflow/sampled-steps.js';
import { ArtifactUris } from '../../src/storage/artifacts/index.js';

describe('ArtifactUris: the artifacts mode decides the scheme, either scheme reads back', () => {
  const proxied = new ArtifactUris('file:///srv/art', 'proxied');
  const direct = new ArtifactUris('file:///srv/art', 'direct');
  const s3 = new ArtifactUris('s3://bucket/prefix', 'direct');

  it('hands out mlflow-artifacts:/ when proxied and the store URI when direct', () => {
    expect(proxied.uriOf('1/abc/artifacts')).toBe('mlflow-artifacts:/1/abc/artifacts');
    expect(direct.uriOf('1/abc/artifacts')).toBe('file:///srv/art/1/abc/artifacts');
    expect(s3.uriOf('1/abc/artifacts')).toBe('s3://bucket/prefix/1/abc/artifacts');
    expect(direct.uriOf('')).toBe('file:///srv/art');
  });

  it('maps both kinds of URI of the store back to the same store path, in either mode', () => {
    for (const u of [proxied, direct]) {
      expect(u.pathOf('mlflow-artifacts:/1/abc/artifacts')).toBe('1/abc/artifacts');
      expect(u.pathOf('mlflow-artifacts:///1/abc/artifacts/')).toBe('1/abc/artifacts');
      expect(u.pathOf('file:///srv/art/1/abc/artifacts')).toBe('1/abc/artifacts');
      expect(u.pathOf('file:/srv/art/1/abc')).toBe('1/abc');
      expect(u.pathOf('file:///srv/art')).toBe('');
    }
    expect(s3.pathOf('s3://bucket/prefix/1/x')).toBe('1/x');
    expect(new ArtifactUris('file:///srv/my art', 'direct').pathOf('file:///srv/my%20art/1/a%20b')).toBe('1/a b');
  });

  it('says nothing about locations outside the store, on other servers, or climbing out', () => {
    expect(direct.pathOf('file:///srv/artifacts-other/1')).toBeUndefined();
    expect(direct.pathOf('file:///srv/art/../etc')).toBeUndefined();
    expect(direct.pathOf('file:///srv/art/1/%2e%2e/%2e%2e/etc')).toBeUndefined();
    expect(direct.pathOf('mlflow-artifacts://other:5000/1/x')).toBeUndefined();
    expect(s3.pathOf('s3://bucket/prefix2/1')).toBeUndefined();
    expect(direct.pathOf('https://example.com/srv/art/1')).toBeUndefined();
  });

  it('presents held locations in the mode and leaves the rest alone', () => {
    expect(direct.present('mlflow-artifacts:/0')).toBe('file:///srv/art/0');
    expect(proxied.present('file:///srv/art/0')).toBe('mlflow-artifacts:/0');
    expect(direct.present('s3://elsewhere/x')).toBe('s3://elsewhere/x');
  });

  it('takes the mode from the flag, then FLUXOPS_ARTIFACTS_MODE, proxied by default, and refuses others', () => {
    expect(resolveConfig({ home: '/tmp/h' }, {}).artifactsMode).toBe('proxied');
    expect(resolveConfig({ home: '/tmp/h' }, { FLUXOPS_ARTIFACTS_MODE: 'direct' }).artifactsMode).toBe('direct');
    expect(resolveConfig({ home: '/tmp/h', artifactsMode: 'proxied' }, { FLUXOPS_ARTIFACTS_MODE: 'direct' }).artifactsMode).toBe('proxied');
    expect(() => resolveConfig({ home: '/tmp/h', artifactsMode: 'served' }, {})).toThrow(/proxied or direct/);
  });
});

describe("sampledSteps: MLflow's sampling of logged steps for the UI's charts", () => {
  const range = (from: number, to: number, by = 1) => Array.from({ length: Math.floor((to - from) / by) + 1 }, (_, i) => from + i * by);
  it.each([
    [0, 10, 5, range(0, 9), [0, 2, 4, 6, 8, 9]],
    [4, 8, 5, range(0, 9), [4, 5, 6, 7, 8]],
    [0, 100, 5, range(0, 100, 20), [0, 20, 40, 60, 80, 100]],
    [0, 1000, 5, range(0, 1000, 10), [0, 200, 400, 600, 800, 1000]],
  ])('start %i, end %i, max %i', (start, end, max, all, expected) => {
    expect([...sampledSteps(start, end, max, all)].sort((a, b) => a - b)).toEqual(expected);
  });

  it('returns nothing for no steps in range', () => {
    expect(sampledSteps(5, 9, 3, [1, 2, 3]).size).toBe(0);
  });
});
