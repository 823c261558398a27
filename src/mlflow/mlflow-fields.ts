import type { FastifyRequest } from 'fastify';
import { FluxError, RUN_ID_PATTERN } from '../core/index.js';
import { topLevelMembers } from './lossless-json.js';
import { invalid, invalidValue, missing } from './mlflow-refusals.js';
import { rawJsonBodyOf } from './raw-json-body.js';

/**
 * Reading MLflow requests. MLflow's clients send GET fields in the query string (a list as the
 * same key repeated: `experiment_ids=1&experiment_ids=2`) and every other method's fields as a
 * JSON body. Protobuf's JSON mapping lets an int64 arrive as a number or as a decimal string, and
 * a double as a number, a numeric string or "NaN"/"Infinity"/"-Infinity"; the readers below accept
 * exactly those spellings for the fields declared so, and nothing looser: a string field (ids
 * included) must be a JSON string, as MLflow's server requires.
 */
export class MlflowFields {
  private constructor(
    private readonly fields: Record<string, unknown>,
    /** Query-string fields are all text; a JSON body keeps its types. */
    private readonly fromQuery: boolean,
    /** The body as sent, when the request had a JSON body (see `keepRawJsonBodies`). */
    private readonly rawBody?: string,
  ) {}

  static of(req: FastifyRequest): MlflowFields {
    if (req.method === 'GET' || req.method === 'HEAD') return MlflowFields.ofQuery(req);
    const body = req.body;
    if (body === undefined || body === null) return new MlflowFields({}, false);
    if (typeof body !== 'object' || Array.isArray(body)) throw invalid('the request body must be a JSON object');
    return new MlflowFields(body as Record<string, unknown>, false, rawJsonBodyOf(req));
  }

  /** The query-string fields of any request (routes whose body is not JSON, such as uploads). */
  static ofQuery(req: FastifyRequest): MlflowFields {
    return new MlflowFields((req.query ?? {}) as Record<string, unknown>, true);
  }

  /**
   * The JSON text of a top-level body field exactly as the client wrote it (undefined for query
   * strings, or when the body text is not at hand). Error messages print a value from it, since
   * JSON.parse loses what Python keeps: `9.0` is a float there, `9` an int.
   */
  rawToken(name: string): string | undefined {
    if (this.fromQuery || this.rawBody === undefined) return undefined;
    return topLevelMembers(this.rawBody)?.get(name);
  }

  /** MLflow's refusal of this field's value, printed from the text the client sent. */
  invalid(name: string): FluxError {
    return invalidValue(name, this.raw(name), this.rawToken(name));
  }

  /** The raw value; for a query field given several times, the first (scalar fields). */
  private raw(name: string): unknown {
    const v = this.fields[name];
    if (this.fromQuery && Array.isArray(v)) return v[0];
    return v;
  }

  /** A field as sent (the first, for a query key given several times). */
  value(name: string): unknown {
    return this.raw(name);
  }

  has(name: string): boolean {
    const v = this.fields[name];
    return v !== undefined && v !== null;
  }

  string(name: string): string | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw this.invalid(name);
    return v;
  }

  requiredString(name: string): string {
    const v = this.string(name);
    if (v === undefined) throw missing(name);
    return v;
  }

  /**
   * A string field that some clients send as a number (model versions): a JSON string, or a
   * safe integer written as its decimal text. Tracking ids use `string` and stay strict.
   */
  idString(name: string): string | undefined {
    const v = this.raw(name);
    if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
    return this.string(name);
  }

  int64(name: string): number | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
    if (typeof v === 'string' && /^-?\d{1,16}$/.test(v.trim()) && Number.isSafeInteger(Number(v))) return Number(v);
    throw this.invalid(name);
  }

  requiredInt64(name: string): number {
    const v = this.int64(name);
    if (v === undefined) throw missing(name);
    return v;
  }

  bool(name: string): boolean | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'True') return true;
    if (v === 'false' || v === 'False') return false;
    throw this.invalid(name);
  }

  /** A repeated string field: an array in JSON, the key repeated (or given once) in a query. */
  stringList(name: string): string[] {
    const v = this.fields[name];
    if (v === undefined || v === null) return [];
    const list = Array.isArray(v) ? (v as unknown[]) : this.fromQuery ? [v] : undefined;
    if (list === undefined) throw this.invalid(name);
    return list.map((item, i) => {
      if (typeof item === 'string') return item;
      throw invalidValue(`${name}[${i}]`, item);
    });
  }

  /** A repeated message field (JSON bodies only): a list of objects. */
  objectList(name: string): Array<Record<string, unknown>> {
    const v = this.fields[name];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw this.invalid(name);
    return v.map((item: unknown, i) => {
      if (typeof item !== 'object' || item === null || Array.isArray(item)) throw invalidValue(`${name}[${i}]`, item);
      return item as Record<string, unknown>;
    });
  }

  /** The run a request names: `run_id`, or the legacy `run_uuid` older clients send. */
  runId(): string {
    const id = this.string('run_id') || this.string('run_uuid');
    if (!id) throw missing('run_id');
    return checkRunId(id);
  }
}

/**
 * MLflow accepts any id of letters, digits, `_` and `-` and answers 404 for one it does not know;
 * FluxOps' ids are 32 hex characters, so any other well-formed id is simply not found.
 */
export function checkRunId(id: string): string {
  if (RUN_ID_PATTERN.test(id)) return id;
  if (/^[a-zA-Z0-9][\w-]{0,255}$/.test(id)) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `Run with id=${id} not found`);
  throw invalidValue('run_id', id);
}

/** An int64 field inside a nested object (metrics of a batch): number or decimal string. */
export function int64Of(v: unknown, field: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d{1,16}$/.test(v.trim()) && Number.isSafeInteger(Number(v))) return Number(v);
  throw invalidValue(field, v);
}

/** A double as protobuf's JSON mapping writes it: a number, a numeric string, or NaN/±Infinity as strings. */
export function doubleOf(v: unknown, field: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (v === 'NaN' || v === 'nan') return NaN;
    if (v === 'Infinity' || v === 'inf') return Infinity;
    if (v === '-Infinity' || v === '-inf') return -Infinity;
    const t = v.trim();
    if (t !== '' && /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(t)) return Number(t);
  }
  throw invalidValue(field, v);
}

/** A string field inside a nested object. */
export function stringOf(v: unknown, field: string, required = false): string | undefined {
  if (v === undefined || v === null) {
    if (required) throw missing(field);
    return undefined;
  }
  if (typeof v !== 'string') throw invalidValue(field, v);
  return v;
}
