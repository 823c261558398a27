import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FluxError } from '../../src/core/index.js';
import { openArtifactStore } from '../../src/storage/artifacts/index.js';
import { closedPort, emulatorOrSkip, startAzurite } from '../helpers/emulators.js';
import { describeArtifactStoreConformance } from './artifact-store-conformance.js';

// One emulator for the whole file; each test gets its own prefix in the container.
const azurite = await emulatorOrSkip(startAzurite, 'Azurite');

if (azurite === undefined) {
  describe.skip('artifact store conformance on Azure Blob (Azurite did not start)', () => it('skipped', () => undefined));
} else {
  const { bucket: container, env, label } = azurite;
  describeArtifactStoreConformance({
    label,
    fresh() {
      const base = `azure://${container}/t-${randomBytes(6).toString('hex')}`;
      return Promise.resolve({ store: openArtifactStore(`${base}/store`, env), parent: openArtifactStore(base, env), storeName: 'store' });
    },
  });

  describe('Azure Blob artifact store: root forms and verify() at start', () => {
    it("a wasbs:// root is the same place as the azure:// root of its container and prefix", async () => {
      // The connection string's account (devstoreaccount1) matches the wasbs host, as it must.
      const prefix = `t-${randomBytes(6).toString('hex')}`;
      const wasbs = openArtifactStore(`wasbs://${container}@devstoreaccount1.blob.core.windows.net/${prefix}`, env);
      const azure = openArtifactStore(`azure://${container}/${prefix}`, env);
      expect(wasbs.uri).toBe(`wasbs://${container}@devstoreaccount1.blob.core.windows.net/${prefix}`);
      await wasbs.verify();
      await wasbs.put('run/model/m.json', '{"a":1}');
      await wasbs.put('run/big.bin', Buffer.alloc(9 * 1024 * 1024, 7));
      expect((await azure.read('run/model/m.json')).toString()).toBe('{"a":1}');
      expect(await azure.list('run')).toEqual([
        { path: 'run/big.bin', isDir: false, size: 9 * 1024 * 1024 },
        { path: 'run/model', isDir: true },
      ]);
      await azure.delete('run');
      expect(await wasbs.exists('run/model/m.json')).toBe(false);
    });

    it('names a missing container and the endpoint', async () => {
      const error = await openArtifactStore('azure://no-such-container/x', env).verify().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FluxError);
      expect((error as FluxError).code).toBe('INVALID_PARAMETER_VALUE');
      expect((error as FluxError).message).toMatch(/^artifact root azure:\/\/no-such-container\/x: container 'no-such-container' does not exist at http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1/);
    });

    it('says when the endpoint cannot be reached', async () => {
      const port = await closedPort();
      const cs = env.AZURE_STORAGE_CONNECTION_STRING!.replace(/BlobEndpoint=http:\/\/127\.0\.0\.1:\d+/, `BlobEndpoint=http://127.0.0.1:${port}`);
      const error = await openArtifactStore(`azure://${container}`, { AZURE_STORAGE_CONNECTION_STRING: cs }).verify().catch((e: unknown) => e);
      expect((error as FluxError).code).toBe('TEMPORARILY_UNAVAILABLE');
      expect((error as FluxError).message).toMatch(new RegExp(`^artifact root azure://${container}: container '${container}' at http://127.0.0.1:${port}/devstoreaccount1 could not be reached`));
    });
  });
}
