import { createHash } from 'node:crypto';
import { Ajv, type ErrorObject } from 'ajv';
import { isMap, isPair, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { FluxError } from '../core/index.js';
import { conditionSource, ExpressionError, parseExpression, referencesOf, templatesIn, type Expr } from './expressions.js';
import { PipelineFileSchema, STEP_TYPES, type ParamDefinition, type PipelineFile, type StepDefinition, type TriggerDefinition } from './spec.js';

/** One thing wrong with a pipeline file, where it is. */
export interface PipelineProblem {
  /** The field, as `steps.train.with.data`. */
  path: string;
  line: number;
  column: number;
  message: string;
}

export interface PipelineStep {
  name: string;
  def: StepDefinition;
  /** `type`, or `run` for a command step. */
  kind: string;
  needs: string[];
  condition: Expr | undefined;
}

/** A validated pipeline: its steps in an order where every step comes after what it needs. */
export interface Pipeline {
  name: string;
  description: string | undefined;
  params: Record<string, ParamDefinition>;
  steps: PipelineStep[];
  triggers: TriggerDefinition[];
  /** The file as given, and its SHA-256. */
  text: string;
  hash: string;
}

const ajv = new Ajv({ allErrors: true, strict: false });
const validateFile = ajv.compile<PipelineFile>(PipelineFileSchema);
const ROOTS = new Set(['params', 'steps', 'run', 'pipeline', 'event']);

/** A pipeline file that is not valid: the message lists every problem as `source:line:column: field: what`. */
export function invalidPipeline(source: string, problems: PipelineProblem[]): FluxError {
  const lines = problems.slice(0, 20).map((p) => `${source}:${p.line}:${p.column}: ${p.path === '' ? '' : `${p.path}: `}${p.message}`);
  const more = problems.length > 20 ? `\n… and ${problems.length - 20} more` : '';
  return new FluxError('INVALID_PARAMETER_VALUE', `${source} is not a valid pipeline:\n${lines.join('\n')}${more}`, { field: 'spec', problems });
}

/** Parses and validates a pipeline file (YAML or JSON), or throws one error naming every problem with its line and column. */
export function parsePipeline(text: string, source = 'pipeline.yaml'): Pipeline {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => lineCounter.linePos(offset);
  if (doc.errors.length > 0) {
    throw invalidPipeline(
      source,
      doc.errors.map((e) => ({ path: '', ...lineCol(at(e.pos[0])), message: e.message.split('\n')[0]! })),
    );
  }
  const raw: unknown = doc.toJS({ maxAliasCount: 100 });
  if (!validateFile(raw)) {
    throw invalidPipeline(source, schemaProblems(validateFile.errors ?? [], doc, at));
  }
  const file = raw;
  const problems: PipelineProblem[] = [];
  const where = (path: Array<string | number>, key = false) => locate(doc, path, at, key);
  const names = Object.keys(file.steps);
  const steps: PipelineStep[] = names.map((name) => {
    const def = file.steps[name]!;
    const needs = def.needs === undefined ? [] : typeof def.needs === 'string' ? [def.needs] : def.needs;
    for (const n of needs) {
      if (!Object.hasOwn(file.steps, n)) problems.push({ path: `steps.${name}.needs`, ...where(['steps', name, 'needs']), message: `needs '${n}', which is not a step (steps: ${names.join(', ')})` });
      if (n === name) problems.push({ path: `steps.${name}.needs`, ...where(['steps', name, 'needs']), message: 'a step cannot need itself' });
    }
    let condition: Expr | undefined;
    if (def.if !== undefined) {
      try {
        condition = parseExpression(conditionSource(def.if));
      } catch (e) {
        problems.push({ path: `steps.${name}.if`, ...where(['steps', name, 'if']), message: expressionMessage(e) });
      }
    }
    return { name, def, kind: def.type ?? 'run', needs, condition };
  });
  const order = topologicalOrder(steps, (cycle) => problems.push({ path: `steps.${cycle[0]}.needs`, ...where(['steps', cycle[0]!, 'needs']), message: `steps ${cycle.join(' → ')} form a cycle` }));
  checkReferences(file, steps, where, problems);
  if (problems.length > 0) throw invalidPipeline(source, problems);
  return {
    name: file.name,
    description: file.description,
    params: file.params ?? {},
    steps: order,
    triggers: file.on ?? [],
    text,
    hash: createHash('sha256').update(text).digest('hex'),
  };
}

/** Every expression's references must name a declared param, or a step this one needs (directly or not). */
function checkReferences(file: PipelineFile, steps: PipelineStep[], where: (p: Array<string | number>) => { line: number; column: number }, problems: PipelineProblem[]): void {
  const byName = new Map(steps.map((s) => [s.name, s]));
  const ancestors = (name: string, seen = new Set<string>()): Set<string> => {
    for (const n of byName.get(name)?.needs ?? []) if (!seen.has(n)) ancestors(n, seen.add(n));
    return seen;
  };
  for (const s of steps) {
    const before = ancestors(s.name);
    const visit = (value: unknown, path: Array<string | number>) => {
      if (typeof value === 'string') {
        const isCondition = path.at(-1) === 'if' && path.length === 3;
        // A condition that did not parse was reported already.
        if (isCondition && s.condition === undefined) return;
        const exprs = isCondition ? [{ src: conditionSource(value), at: 0 }] : templatesIn(value);
        for (const { src } of exprs) {
          let e: Expr;
          try {
            e = parseExpression(src);
          } catch (err) {
            problems.push({ path: path.join('.'), ...where(path), message: expressionMessage(err) });
            continue;
          }
          for (const ref of referencesOf(e)) {
            // A sweep's command reads its trial's values.
            if (ref.path[0] === 'trial' && s.kind === 'sweep' && path[3] === 'command') continue;
            const problem = referenceProblem(ref.path, file, before, s.name);
            if (problem !== undefined) problems.push({ path: path.join('.'), ...where(path), message: problem });
          }
        }
      } else if (Array.isArray(value)) value.forEach((v, i) => visit(v, [...path, i]));
      else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) visit(v, [...path, k]);
    };
    visit(s.def, ['steps', s.name]);
  }
}

function referenceProblem(path: string[], file: PipelineFile, before: Set<string>, step: string): string | undefined {
  const [root, name, part] = path;
  const ref = path.join('.');
  if (!ROOTS.has(root!)) return `'${ref}' is not something an expression can read (params.*, steps.<step>.outputs.*, steps.<step>.status, run.id, pipeline.name, event.*)`;
  if (root === 'params' && (name === undefined || !Object.hasOwn(file.params ?? {}, name))) return `'${ref}' is not a declared param (params: ${Object.keys(file.params ?? {}).join(', ') || 'none'})`;
  if (root === 'steps') {
    if (name === undefined || !Object.hasOwn(file.steps, name)) return `'${ref}' names no step`;
    if (!before.has(name)) return `'${ref}': step ${step} must need ${name} (directly or through another step) to read it`;
    if (part !== 'outputs' && part !== 'status') return `'${ref}': a step has outputs and a status`;
  }
  return undefined;
}

function expressionMessage(e: unknown): string {
  return e instanceof ExpressionError ? `bad expression: ${e.message} (at character ${e.at + 1})` : String(e);
}

/** Kahn's algorithm, keeping the file's order among steps that are ready together. */
function topologicalOrder(steps: PipelineStep[], onCycle: (cycle: string[]) => void): PipelineStep[] {
  const done = new Set<string>();
  const out: PipelineStep[] = [];
  const known = new Set(steps.map((s) => s.name));
  while (out.length < steps.length) {
    const next = steps.find((s) => !done.has(s.name) && s.needs.every((n) => done.has(n) || !known.has(n)));
    if (next === undefined) {
      onCycle(findCycle(steps.filter((s) => !done.has(s.name))));
      return steps;
    }
    done.add(next.name);
    out.push(next);
  }
  return out;
}

function findCycle(rest: PipelineStep[]): string[] {
  const byName = new Map(rest.map((s) => [s.name, s]));
  const path: string[] = [];
  let cur = rest[0]!;
  while (!path.includes(cur.name)) {
    path.push(cur.name);
    cur = byName.get(cur.needs.find((n) => byName.has(n))!)!;
  }
  return [...path.slice(path.indexOf(cur.name)), cur.name];
}

function lineCol(p: { line: number; col: number }): { line: number; column: number } {
  return { line: p.line, column: p.col };
}

/** Line and column of the node at a path (or of its key); the nearest existing parent when absent. */
function locate(doc: Document, path: Array<string | number>, at: (o: number) => { line: number; col: number }, key = false): { line: number; column: number } {
  for (let n = path.length; n >= 0; n--) {
    const head = path.slice(0, n);
    if (key && n === path.length && n > 0) {
      const parent = head.length === 1 ? doc.contents : doc.getIn(head.slice(0, -1), true);
      if (isMap(parent)) {
        const pair = parent.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(head.at(-1)));
        const range = (pair?.key as Node | undefined)?.range;
        if (range) return lineCol(at(range[0]));
      }
      continue;
    }
    const node = (head.length === 0 ? doc.contents : doc.getIn(head, true)) as Node | null | undefined;
    if (node?.range) return lineCol(at(node.range[0]));
  }
  return { line: 1, column: 1 };
}

/** What a field must be, from the type/pattern/const complaints of its union's branches. */
function shapeMessage(shapes: ErrorObject[], path: string[]): string {
  if (path.length === 3 && path[0] === 'steps' && path[2] === 'type') return `must be one of ${STEP_TYPES.join(', ')}`;
  const types = [...new Set(shapes.filter((x) => x.keyword === 'type').map((x) => String((x.params as { type: string }).type)))];
  const template = shapes.some((x) => x.keyword === 'pattern' && String((x.params as { pattern: string }).pattern).includes('\\$\\{\\{'));
  const consts = shapes.filter((x) => x.keyword === 'const').map((x) => JSON.stringify((x.params as { allowedValue: unknown }).allowedValue));
  const kinds = [...types.filter((t) => !(template && t === 'string')), ...consts];
  if (template) kinds.push('a ${{ … }} expression');
  if (kinds.length === 0) return shapes[0]?.message ?? 'is not valid';
  return `must be ${kinds.length === 1 ? kinds[0] : `${kinds.slice(0, -1).join(', ')} or ${kinds.at(-1)}`}`;
}

const META = new Set(['if', 'anyOf', 'oneOf', 'allOf', 'not']);

/** Ajv's errors as problems: the deepest per field, meta-errors dropped where a precise one exists. */
function schemaProblems(errors: ErrorObject[], doc: Document, at: (o: number) => { line: number; col: number }): PipelineProblem[] {
  const segs = (p: string) => (p === '' ? [] : p.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')));
  const precise = errors.filter((e) => !META.has(e.keyword));
  const SHAPE = new Set(['type', 'pattern', 'const']);
  const chosen: ErrorObject[] = [];
  for (const e of errors) {
    const here = errors.filter((x) => x.instancePath === e.instancePath);
    if (e.keyword === 'oneOf' && segs(e.instancePath).length === 2) {
      chosen.push(e); // a step with both a type and a run, or neither: say that, whatever else fails
    } else if (META.has(e.keyword)) {
      // Kept only when nothing more precise was said at or under this field.
      if (!precise.some((p) => p.instancePath.startsWith(e.instancePath))) chosen.push(e);
    } else if (SHAPE.has(e.keyword)) {
      // One branch of a union (a value or a ${{ }} template): drop it when the field has a
      // precise complaint (a bound) or something under it failed; several shapes become one.
      if (here.some((x) => !SHAPE.has(x.keyword) && !META.has(x.keyword))) continue;
      if (precise.some((p) => p.instancePath.length > e.instancePath.length && p.instancePath.startsWith(`${e.instancePath}/`))) continue;
      const shapes = here.filter((x) => SHAPE.has(x.keyword));
      if (shapes[0] !== e) continue;
      chosen.push({ ...e, message: shapeMessage(shapes, segs(e.instancePath)) });
    } else chosen.push(e);
  }
  const seen = new Set<string>();
  const out: PipelineProblem[] = [];
  for (const e of chosen) {
    const path = segs(e.instancePath);
    let message = e.message ?? 'is not valid';
    let keyPath: string[] | undefined;
    if (e.keyword === 'additionalProperties') {
      const extra = String((e.params as { additionalProperty: string }).additionalProperty);
      message = `unknown field '${extra}'`;
      keyPath = [...path, extra];
    } else if (e.keyword === 'required') {
      message = `'${String((e.params as { missingProperty: string }).missingProperty)}' is required`;
    } else if (e.keyword === 'oneOf' && path[0] === 'steps' && path.length === 2) {
      message = 'a step has either a type (a built-in step) or a run command, not both and not neither';
    } else if (e.keyword === 'pattern' && path[0] === 'steps' && path.length === 2) {
      message = 'a step name is letters, digits, _, . and -';
    } else if (e.keyword === 'propertyNames') continue;
    const label = (keyPath ?? path).join('.');
    const id = `${label}|${message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ path: label, ...locate(doc, keyPath ?? path, at, keyPath !== undefined), message });
  }
  return out;
}

/** What a client is shown of a validated pipeline. */
export function summarizePipeline(p: Pipeline) {
  return {
    name: p.name,
    description: p.description ?? null,
    hash: p.hash,
    params: p.params as Record<string, unknown>,
    steps: p.steps.map((s) => ({ name: s.name, kind: s.kind, needs: s.needs, if: s.def.if ?? null })),
  };
}
