import { FluxError } from '../core/index.js';
import type { ArtifactStore } from '../storage/artifacts/index.js';
import { parseModel, type BuiltinModel } from './format.js';
import { FLUXOPS_FLAVOR, ONNX_FLAVOR, parseMlmodel, type Mlmodel } from './mlmodel.js';
import { planOnnxModel } from './onnx/onnx-graph.js';
import { createOnnxPredictor } from './onnx/onnx-predictor.js';
import { createPredictor, type Predictor } from './predictor.js';

/** File name of a built-in model inside its model folder. */
export const MODEL_FILE = 'fluxops-model.json';
/** File MLflow writes at the top of a logged model. */
export const MLMODEL_FILE = 'MLmodel';
/** The ONNX graph of a model folder without an MLmodel file, and the onnx flavor's default `data`. */
export const ONNX_FILE = 'model.onnx';

export interface ModelInspectionResult {
  flavor: string;
  servable: boolean;
  signature: { inputs: Array<{ name: string; type: string }>; outputs: Array<{ name: string; type: string }> } | null;
  message: string;
}

/** What loadPredictor and inspectModelFolder read from: an artifact store, or a run's artifacts over the API. */
export type ModelFiles = Pick<ArtifactStore, 'read' | 'exists'>;

/** A folder's model, ready to predict. */
export interface LoadedPredictor {
  predictor: Predictor;
  flavor: 'fluxops' | 'onnx';
  /** When the model was trained, when it says (built-in models, FluxOps' ONNX exports). */
  trainedAt: string | null;
}

/** Where a folder's servable model is, or why there is none. */
type Located =
  | { kind: 'fluxops'; flavor: string; file: string }
  | { kind: 'onnx'; flavor: string; file: string; mlmodel: Mlmodel | undefined }
  | { kind: 'unservable'; flavor: string; message: string; signature: Mlmodel['signature'] }
  | { kind: 'empty' };

/**
 * Finds a folder's model. An MLmodel file is read for its flavors: FluxOps' own (`fluxops`, naming
 * its model document) first, then MLflow's `onnx` flavor (its `data` file, `model.onnx` by
 * default). Without an MLmodel, a `fluxops-model.json` or a `model.onnx` is the model.
 */
async function locate(files: ModelFiles, folder: string, list: (() => Promise<unknown[]>) | undefined): Promise<Located> {
  if (await files.exists(`${folder}/${MLMODEL_FILE}`)) {
    let mlmodel: Mlmodel;
    try {
      mlmodel = parseMlmodel((await files.read(`${folder}/${MLMODEL_FILE}`)).toString('utf8'));
    } catch (e) {
      if (!(e instanceof FluxError)) throw e;
      return { kind: 'unservable', flavor: 'unknown', message: e.message, signature: null };
    }
    const flavor = mlmodel.flavors.join('/');
    let file: string | undefined;
    let onnx: string | undefined;
    try {
      file = flavorFile(mlmodel, FLUXOPS_FLAVOR, 'model_file', MODEL_FILE);
      onnx = flavorFile(mlmodel, ONNX_FLAVOR, 'data', ONNX_FILE);
    } catch (e) {
      if (!(e instanceof FluxError)) throw e;
      return { kind: 'unservable', flavor, message: e.message, signature: mlmodel.signature };
    }
    if (file !== undefined || (await files.exists(`${folder}/${MODEL_FILE}`))) return { kind: 'fluxops', flavor, file: file ?? MODEL_FILE };
    if (onnx !== undefined) return { kind: 'onnx', flavor, file: onnx, mlmodel };
    return { kind: 'unservable', flavor, message: `flavor ${flavor} is not supported by FluxOps serving`, signature: mlmodel.signature };
  }
  if (await files.exists(`${folder}/${MODEL_FILE}`)) return { kind: 'fluxops', flavor: 'fluxops', file: MODEL_FILE };
  if (await files.exists(`${folder}/${ONNX_FILE}`)) return { kind: 'onnx', flavor: 'onnx', file: ONNX_FILE, mlmodel: undefined };
  if (list !== undefined && (await list()).length === 0) return { kind: 'empty' };
  return { kind: 'unservable', flavor: 'unknown', message: `no ${MODEL_FILE}, ${ONNX_FILE} or ${MLMODEL_FILE} in the model folder`, signature: null };
}

/**
 * Says what a model folder holds: servable when it is a FluxOps model or an ONNX graph FluxOps
 * can serve (its signature then read from the graph), otherwise recognised but not servable, and
 * the message says why. Undefined when the folder is empty or absent.
 */
export async function inspectModelFolder(artifacts: ArtifactStore, folder: string): Promise<ModelInspectionResult | undefined> {
  const found = await locate(artifacts, folder, () => artifacts.list(folder));
  switch (found.kind) {
    case 'empty':
      return undefined;
    case 'unservable':
      return { flavor: found.flavor, servable: false, signature: found.signature, message: found.message };
    case 'fluxops': {
      const model = parseModel(await readFile(artifacts, folder, found.file));
      return { flavor: found.flavor, servable: true, signature: model.signature, message: '' };
    }
    case 'onnx':
      try {
        const plan = planOnnxModel(await readBytes(artifacts, folder, found.file), found.file, found.mlmodel?.signature?.inputs);
        return { flavor: found.flavor, servable: true, signature: { inputs: [...plan.signature.inputs], outputs: [...plan.signature.outputs] }, message: '' };
      } catch (e) {
        if (!(e instanceof FluxError)) throw e;
        return { flavor: found.flavor, servable: false, signature: found.mlmodel?.signature ?? null, message: e.message };
      }
  }
}

/** Loads the FluxOps model of a folder: its `fluxops-model.json`, or the file its MLmodel's `fluxops` flavor names. */
export async function loadModel(files: ModelFiles, folder: string): Promise<BuiltinModel> {
  const found = await locate(files, folder, undefined);
  if (found.kind === 'onnx') throw new FluxError('UNSUPPORTED_MODEL_FORMAT', `${folder} holds an ONNX model (${found.file}), not a FluxOps model`);
  return parseModel(await readFile(files, folder, found.kind === 'fluxops' ? found.file : MODEL_FILE));
}

/** Loads a folder's model, built-in or ONNX, as a predictor; refuses what is not servable with the reason. */
export async function loadPredictor(files: ModelFiles, folder: string): Promise<LoadedPredictor> {
  const found = await locate(files, folder, undefined);
  switch (found.kind) {
    case 'fluxops': {
      const model = parseModel(await readFile(files, folder, found.file));
      return { predictor: createPredictor(model), flavor: 'fluxops', trainedAt: model.trainedAt };
    }
    case 'onnx': {
      const plan = planOnnxModel(await readBytes(files, folder, found.file), found.file, found.mlmodel?.signature?.inputs);
      return { predictor: await createOnnxPredictor(plan, found.file), flavor: 'onnx', trainedAt: plan.trainedAt };
    }
    case 'unservable':
      throw new FluxError('UNSUPPORTED_MODEL_FORMAT', found.message);
    case 'empty':
      throw new FluxError('RESOURCE_DOES_NOT_EXIST', `no model files in ${folder}`);
  }
}

/** The file a flavor names under `field` (default `fallback`), or undefined without that flavor. */
function flavorFile(mlmodel: Mlmodel, flavor: string, field: string, fallback: string): string | undefined {
  const cfg = mlmodel.flavorConfig[flavor];
  if (cfg === undefined) return undefined;
  const file = cfg[field] ?? fallback;
  if (typeof file !== 'string' || file === '' || file.startsWith('/') || file.split('/').includes('..')) {
    throw new FluxError('UNSUPPORTED_MODEL_FORMAT', `invalid MLmodel file: the ${flavor} flavor must name its ${field} as a path inside the model folder`);
  }
  return file;
}

async function readBytes(files: ModelFiles, folder: string, file: string): Promise<Buffer> {
  try {
    return await files.read(`${folder}/${file}`);
  } catch {
    throw new FluxError('RESOURCE_DOES_NOT_EXIST', `model file ${folder}/${file} not found in the artifact store`);
  }
}

async function readFile(files: ModelFiles, folder: string, file: string): Promise<string> {
  return (await readBytes(files, folder, file)).toString('utf8');
}
