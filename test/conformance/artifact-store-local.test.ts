import path from 'node:path';
import { LocalArtifactStore } from '../../src/storage/artifacts/index.js';
import { tmpDir } from '../helpers/backends.js';
import { describeArtifactStoreConformance } from './artifact-store-conformance.js';

describeArtifactStoreConformance({
  label: 'local folder (temp directory)',
  fresh() {
    const base = tmpDir('fluxops-artifacts-');
    return Promise.resolve({ store: new LocalArtifactStore(path.join(base, 'store')), parent: new LocalArtifactStore(base), storeName: 'store' });
  },
});
