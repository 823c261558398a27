import { FluxError } from '../core/index.js';
import type { ArtifactStore } from '../storage/artifacts/index.js';
import { parseModel, type BuiltinModel } from './format.js';
import { FLUXOPS_FLAVOR, parseMlmodel, type Mlmodel } from './mlmodel.js';

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
 * Says what a model folder holds. An MLflow `MLmodel` file is read for its flavors and signature:
 * the folder is servable when one flavor is FluxOps' own (`fluxops`, naming its model document),
 * otherwise it is recognised but not servable, and the message says why. A folder with only a
 * FluxOps model document is servable as it is. Undefined when the folder is empty or absent.
 */
export async function inspectModelFolder(artifacts: ArtifactStore, folder: string): Promise<ModelInspectionResult | undefined> {
  if (await artifacts.exists(`${folder}/${MLMODEL_FILE}`)) {
    let mlmodel: Mlmodel;
    try {
      mlmodel = parseMlmodel((await artifacts.read(`${folder}/${MLMODEL_FILE}`)).toString('utf8'));
    } catch (e) {
      if (!(e instanceof FluxError)) throw e;
      return { flavor: 'unknown', servable: false, signature: null, message: e.message };
    }
    const flavor = mlmodel.flavors.join('/');
    const file = fluxopsModelFile(mlmodel);
    if (file !== undefined || (await artifacts.exists(`${folder}/${MODEL_FILE}`))) {
      const model = parseModel(await readModelDocument(artifacts, folder, file ?? MODEL_FILE));
      return { flavor, servable: true, signature: model.signature, message: '' };
    }
    const message = mlmodel.flavors.includes('onnx')
      ? `flavor ${flavor} is recognised, but ONNX models are not yet servable by this FluxOps version`
      : `flavor ${flavor} is not supported by FluxOps serving`;
    return { flavor, servable: false, signature: mlmodel.signature, message };
  }
  if (await artifacts.exists(`${folder}/${MODEL_FILE}`)) {
    const model = await loadModel(artifacts, folder);
    return { flavor: 'fluxops', servable: true, signature: model.signature, message: '' };
  }
  const entries = await artifacts.list(folder);
  if (entries.length === 0) return undefined;
  return { flavor: 'unknown', servable: false, signature: null, message: `no ${MODEL_FILE} or ${MLMODEL_FILE} in the model folder` };
}

/** Loads the FluxOps model of a folder: its `fluxops-model.json`, or the file its MLmodel's `fluxops` flavor names. */
export async function loadModel(artifacts: ArtifactStore, folder: string): Promise<BuiltinModel> {
  let file = MODEL_FILE;
  if (!(await artifacts.exists(`${folder}/${MODEL_FILE}`)) && (await artifacts.exists(`${folder}/${MLMODEL_FILE}`))) {
    file = fluxopsModelFile(parseMlmodel((await artifacts.read(`${folder}/${MLMODEL_FILE}`)).toString('utf8'))) ?? MODEL_FILE;
  }
  return parseModel(await readModelDocument(artifacts, folder, file));
}

/** The model document the `fluxops` flavor names (default `fluxops-model.json`), or undefined without that flavor. */
function fluxopsModelFile(mlmodel: Mlmodel): string | undefined {
  const cfg = mlmodel.flavorConfig[FLUXOPS_FLAVOR];
  if (cfg === undefined) return undefined;
  const file = cfg.model_file ?? MODEL_FILE;
  if (typeof file !== 'string' || file === '' || file.startsWith('/') || file.split('/').includes('..')) {
    throw new FluxError('UNSUPPORTED_MODEL_FORMAT', 'invalid MLmodel file: the fluxops flavor must name its model_file as a path inside the model folder');
  }
  return file;
}

async function readModelDocument(artifacts: ArtifactStore, folder: string, file: string): Promise<string> {
  try {
    return (await artifacts.read(`${folder}/${file}`)).toString('utf8');
  } catch {
    throw new FluxError('RESOURCE_DOES_NOT_EXIST', `model file ${folder}/${file} not found in the artifact store`);
  }
}
