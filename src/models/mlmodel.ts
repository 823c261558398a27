import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { FluxError } from '../core/index.js';

/**
 * Reading MLflow's `MLmodel` file: the YAML document at the top of a model folder that names the
 * model's flavors (how each tool can load it) and, optionally, its signature. The signature's
 * `inputs` and `outputs` are JSON text inside the YAML: a list of column specs
 * (`{"name": "x", "type": "double"}`) or of tensor specs
 * (`{"name": "x", "type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}`).
 */
export interface MlmodelSpec {
  name: string;
  /** Column type (`double`, `long`, `string`, …), or `tensor<float32>[-1,4]` for a tensor. */
  type: string;
}

export interface Mlmodel {
  /** Flavor names in file order, for example `['python_function', 'sklearn']`. */
  flavors: string[];
  /** Each flavor's own settings, as written. */
  flavorConfig: Record<string, Record<string, unknown>>;
  signature: { inputs: MlmodelSpec[]; outputs: MlmodelSpec[] } | null;
  /** `run_id` and MLflow 3's `model_id` when the file records them. */
  runId: string | undefined;
  modelId: string | undefined;
}

/** The flavor FluxOps serves natively: `fluxops: {model_file: fluxops-model.json}` in the MLmodel file. */
export const FLUXOPS_FLAVOR = 'fluxops';
/** MLflow's ONNX flavor (`mlflow.onnx`): `onnx: {data: model.onnx, onnx_version: …}`. */
export const ONNX_FLAVOR = 'onnx';

function bad(message: string): FluxError {
  return new FluxError('UNSUPPORTED_MODEL_FORMAT', `invalid MLmodel file: ${message}`);
}

/** Parses an MLmodel document; throws UNSUPPORTED_MODEL_FORMAT saying what is wrong. */
export function parseMlmodel(text: string): Mlmodel {
  let doc: unknown;
  try {
    // Plain YAML 1.2 core schema: no custom tags, so a file cannot make the parser build objects.
    doc = parseYaml(text, { schema: 'core', maxAliasCount: 100, logLevel: 'error' });
  } catch (e) {
    throw bad(`not valid YAML (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw bad('the document is not a mapping');
  const d = doc as Record<string, unknown>;
  const flavorsRaw = d.flavors;
  if (typeof flavorsRaw !== 'object' || flavorsRaw === null || Array.isArray(flavorsRaw)) throw bad("'flavors' is missing or not a mapping");
  const flavorConfig: Record<string, Record<string, unknown>> = {};
  for (const [name, cfg] of Object.entries(flavorsRaw as Record<string, unknown>)) {
    flavorConfig[name] = typeof cfg === 'object' && cfg !== null && !Array.isArray(cfg) ? (cfg as Record<string, unknown>) : {};
  }
  const flavors = Object.keys(flavorConfig);
  if (flavors.length === 0) throw bad("'flavors' names no flavor");
  return {
    flavors,
    flavorConfig,
    signature: parseSignature(d.signature),
    runId: typeof d.run_id === 'string' ? d.run_id : undefined,
    modelId: typeof d.model_id === 'string' ? d.model_id : undefined,
  };
}

function parseSignature(sig: unknown): Mlmodel['signature'] {
  if (sig === undefined || sig === null) return null;
  if (typeof sig !== 'object' || Array.isArray(sig)) throw bad("'signature' is not a mapping");
  const s = sig as Record<string, unknown>;
  return { inputs: parseSpecs(s.inputs, 'inputs'), outputs: parseSpecs(s.outputs, 'outputs') };
}

function parseSpecs(v: unknown, field: string): MlmodelSpec[] {
  if (v === undefined || v === null || v === '') return [];
  let list: unknown = v;
  if (typeof v === 'string') {
    try {
      list = JSON.parse(v);
    } catch {
      throw bad(`signature.${field} is not valid JSON`);
    }
  }
  if (!Array.isArray(list)) throw bad(`signature.${field} is not a list of column or tensor specs`);
  return list.map((spec, i) => parseSpec(spec, `signature.${field}[${i}]`, i));
}

function parseSpec(spec: unknown, where: string, index: number): MlmodelSpec {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw bad(`${where} is not an object`);
  const o = spec as Record<string, unknown>;
  if (typeof o.type !== 'string' || o.type === '') throw bad(`${where} has no type`);
  const name = typeof o.name === 'string' && o.name !== '' ? o.name : undefined;
  if (o.type === 'tensor') {
    const ts = o['tensor-spec'];
    if (typeof ts !== 'object' || ts === null) throw bad(`${where} is a tensor without a tensor-spec`);
    const { dtype, shape } = ts as Record<string, unknown>;
    if (typeof dtype !== 'string') throw bad(`${where} tensor-spec has no dtype`);
    const dims = Array.isArray(shape) && shape.every((x) => typeof x === 'number') ? `[${shape.join(',')}]` : '';
    return { name: name ?? (index === 0 ? 'tensor' : `tensor_${index}`), type: `tensor<${dtype}>${dims}` };
  }
  // Columns without a name are positional (`[{"type": "double"}]`): name them by position.
  return { name: name ?? String(index), type: o.type };
}

/**
 * An MLmodel file for a folder holding an ONNX graph as `model.onnx`: MLflow's `onnx` flavor (and
 * `python_function` through `mlflow.onnx`, so MLflow loads it too) with a column signature, which
 * FluxOps reads back for the input column names.
 */
export function onnxMlmodelText(opts: {
  signature: { inputs: ReadonlyArray<{ name: string; type: string }>; outputs: ReadonlyArray<{ name: string; type: string }> };
  runId?: string | undefined;
  artifactPath?: string | undefined;
  createdAt?: Date | undefined;
  file?: string | undefined;
}): string {
  const file = opts.file ?? 'model.onnx';
  // MLflow's schemas are all columns or all tensors: a tensor output (the probabilities) is written
  // as a column of arrays, MLflow's type for one list of numbers per row.
  const columns = (specs: ReadonlyArray<{ name: string; type: string }>) =>
    JSON.stringify(specs.map((s) => (s.type.startsWith('tensor') ? { name: s.name, type: 'array', items: { type: arrayItemType(s.type) } } : { name: s.name, type: s.type })));
  const doc: Record<string, unknown> = {
    ...(opts.artifactPath !== undefined ? { artifact_path: opts.artifactPath } : {}),
    flavors: {
      onnx: { data: file, providers: ['CPUExecutionProvider'] },
      python_function: { loader_module: 'mlflow.onnx', data: file },
    },
    ...(opts.runId !== undefined ? { run_id: opts.runId } : {}),
    signature: { inputs: columns(opts.signature.inputs), outputs: columns(opts.signature.outputs) },
    utc_time_created: (opts.createdAt ?? new Date()).toISOString().replace('T', ' ').replace('Z', ''),
  };
  return stringifyYaml(doc);
}

/** The column type of a tensor's elements: `tensor<float32>[-1,3]` → `float`. */
function arrayItemType(type: string): string {
  const dtype = /^tensor<([a-z0-9]+)>/.exec(type)?.[1] ?? 'float64';
  return ({ float32: 'float', float64: 'double', int64: 'long', int32: 'integer' } as Record<string, string>)[dtype] ?? 'double';
}
