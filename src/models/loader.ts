import { FluxError } from '../core/index.js';
import type { ArtifactStore } from '../storage/artifacts/index.js';
import { parseModel, type BuiltinModel } from './format.js';

/** File name of a built-in model inside its model folder. */
export const MODEL_FILE = 'fluxops-model.json';
/** File MLflow writes at the top of a logged model. */
export const MLMODEL_FILE = 'MLmodel';

export interface ModelInspectionResult {
  flavor: string;
  servable: boolean;
  signature: { inputs: Array<{ name: string; type: string }>; outputs: Array<{ name: string; type: string }> } | null;
  message: string;
}

/**
 * Says what a model folder holds: a FluxOps model (servable, signature from its document), an
 * MLflow `MLmodel` folder (recognised; not servable by this version), or nothing (undefined).
 */
export async function inspectModelFolder(artifacts: ArtifactStore, folder: string): Promise<ModelInspectionResult | undefined> {
  if (await artifacts.exists(`${folder}/${MODEL_FILE}`)) {
    const model = await loadModel(artifacts, folder);
    return { flavor: 'fluxops', servable: true, signature: model.signature, message: '' };
  }
  if (await artifacts.exists(`${folder}/${MLMODEL_FILE}`)) {
    return { flavor: 'mlflow', servable: false, signature: null, message: 'MLflow model flavors are not servable by this FluxOps version' };
  }
  const entries = await artifacts.list(folder);
  if (entries.length === 0) return undefined;
  return { flavor: 'unknown', servable: false, signature: null, message: `no ${MODEL_FILE} or ${MLMODEL_FILE} in the model folder` };
}

export async function loadModel(artifacts: ArtifactStore, folder: string): Promise<BuiltinModel> {
  let text: string;
  try {
    text = (await artifacts.read(`${folder}/${MODEL_FILE}`)).toString('utf8');
  } catch {
    throw new FluxError('RESOURCE_DOES_NOT_EXIST', `model file ${folder}/${MODEL_FILE} not found in the artifact store`);
  }
  return parseModel(text);
}
