import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FluxError } from '../../src/core/index.js';
import { openArtifactStore } from '../../src/storage/artifacts/index.js';
import { closedPort, emulatorOrSkip, startS3rver } from '../helpers/emulators.js';
import { describeArtifactStoreConformance } from './artifact-store-conformance.js';

// One emulator for the whole file; each test gets its own prefix in the bucket.
const s3 = await emulatorOrSkip(startS3rver, 's3rver');

if (s3 === undefined) {
  describe.skip('artifact store conformance on S3 (s3rver did not start)', () => it('skipped', () => undefined));
} else {
  describeArtifactStoreConformance({
    label: s3.label,
    knownGaps: s3.knownGaps,
    fresh() {
      const base = `s3://${s3.bucket}/t-${randomBytes(6).toString('hex')}`;
      return Promise.resolve({ store: openArtifactStore(`${base}/store`, s3.env), parent: openArtifactStore(base, s3.env), storeName: 'store' });
    },
  });

  describe('S3 artifact store: verify() at start', () => {
    it('names a missing bucket and the endpoint', async () => {
      const error = await openArtifactStore('s3://no-such-bucket/x', s3.env).verify().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FluxError);
      expect((error as FluxError).code).toBe('INVALID_PARAMETER_VALUE');
      expect((error as FluxError).message).toBe(`artifact root s3://no-such-bucket/x: bucket 'no-such-bucket' does not exist at ${s3.env.FLUXOPS_S3_ENDPOINT_URL}`);
    });

    it('says when the endpoint cannot be reached', async () => {
      const endpoint = `http://127.0.0.1:${await closedPort()}`;
      const error = await openArtifactStore(`s3://${s3.bucket}`, { ...s3.env, FLUXOPS_S3_ENDPOINT_URL: endpoint }).verify().catch((e: unknown) => e);
      expect((error as FluxError).code).toBe('TEMPORARILY_UNAVAILABLE');
      expect((error as FluxError).message).toMatch(new RegExp(`^artifact root s3://${s3.bucket}: bucket '${s3.bucket}' at ${endpoint} could not be reached`));
    });

    it('passes for a bucket that is there', async () => {
      await openArtifactStore(`s3://${s3.bucket}/any/prefix`, s3.env).verify();
    });
  });
}
