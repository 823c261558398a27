/**
 * Hostile input: the real server on a port, fed several hundred malformed requests (generated
 * from a fixed seed) over real HTTP and raw sockets. Nothing may produce a 5xx or a hang, every
 * refusal must be `{error_code, message}`, no file may appear outside the artifact store, and the
 * server must still serve afterwards.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/api/index.js';
import { createLogger } from '../../src/logging/index.js';
import { openPlatform, type Platform } from '../../src/platform.js';
import { generateDiabetesCsv } from '../../src/training/index.js';
import { trainAndTrack } from '../../src/workflows/index.js';

const SEED = 20240607;
/** A request that has not been answered after this long counts as a hang. */
const HANG_MS = 20_000;
const CONCURRENCY = 12;
/** The server's limit for receiving one request, short so that stalled uploads end quickly. */
const REQUEST_TIMEOUT_MS = 5_000;
/** Name planted in every path-traversal attempt, searched for on disk afterwards. */
const MARKER = 'fluxops-hostile-pwned';

type Family = string;

interface Case {
  family: Family;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Raw bytes written to a socket instead of an HTTP client request (invalid HTTP, lying headers). */
  raw?: Buffer;
  /** Raw only: half-close the socket after writing (the server must then answer or close). */
  halfClose?: boolean;
  /** Statuses this case must get; when absent any status below 500 is acceptable. */
  expect?: number[];
  /** Raw only: the server may close the connection without a response (a request it cannot read). */
  mayClose?: boolean;
}

interface Outcome {
  c: Case;
  status: number | undefined;
  body: string;
  problem?: string;
}

// ---------------------------------------------------------------- deterministic generation

/** mulberry32: small, fast and fully determined by the seed. */
function rng(seed: number): { next(): number; int(n: number): number; pick<T>(xs: readonly T[]): T } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return { next, int, pick: (xs) => xs[int(xs.length)]! };
}

/** JSON text of a record, with one value written as raw JSON text (so `1e999`, `NaN` survive). */
function recordText(features: readonly string[], values: readonly number[], override?: { key: string; raw: string }, extra?: Array<[string, string]>): string {
  const parts = features.map((f, j) => `${JSON.stringify(f)}:${override?.key === f ? override.raw : String(values[j])}`);
  for (const [k, raw] of extra ?? []) parts.push(`${JSON.stringify(k)}:${raw}`);
  return `{${parts.join(',')}}`;
}

function nested(depth: number, open: string, close: string, inner = '1'): string {
  return open.repeat(depth) + inner + close.repeat(depth);
}

/** What the case builders share: the seeded generator, the ids, and request shorthands. */
interface Gen {
  r: ReturnType<typeof rng>;
  features: readonly string[];
  key: string;
  revokedKey: string;
  runId: string;
  add: (c: Case) => void;
  /** One random value per feature. */
  values: () => number[];
  /** JSON text of one valid record. */
  valid: () => string;
  /** A valid predict body. */
  good: string;
  predict: (family: Family, body: string | Buffer, expectStatus?: number[], headers?: Record<string, string>) => Case;
  post: (family: Family, path: string, body: string | Buffer, expectStatus?: number[], headers?: Record<string, string>) => Case;
  auth: Record<string, string>;
  json: Record<string, string>;
  tjson: Record<string, string>;
  runPath: string;
  art: string;
}

function buildCases(features: readonly string[], key: string, revokedKey: string, runId: string): Case[] {
  const r = rng(SEED);
  const cases: Case[] = [];
  const auth = { authorization: `Bearer ${key}` };
  const json = { 'content-type': 'application/json', ...auth };
  const tjson = { 'content-type': 'application/json' };
  const values = (): number[] => features.map(() => Math.round(r.next() * 1000) / 10);
  const valid = (): string => recordText(features, values());
  const request = (method: string, defaults: Record<string, string>) => (family: Family, path: string, body: string | Buffer, expectStatus?: number[], headers: Record<string, string> = defaults): Case => ({
    family,
    method,
    path,
    headers,
    body,
    ...(expectStatus ? { expect: expectStatus } : {}),
  });
  const post = request('POST', tjson);
  const runPath = `/api/v1/runs/${runId}`;
  const g: Gen = {
    r,
    features,
    key,
    revokedKey,
    runId,
    add: (c) => {
      cases.push(c);
    },
    values,
    valid,
    good: `{"inputs":[${valid()}]}`,
    predict: (family, body, expectStatus, headers = json) => request('POST', json)(family, '/api/predict', body, expectStatus, headers),
    post,
    auth,
    json,
    tjson,
    runPath,
    art: `${runPath}/artifacts`,
  };
  for (const section of [
    predictValueCases,
    predictShapeCases,
    predictTransportCases,
    runCreateCases,
    batchCases,
    experimentAndRegistryCases,
    runLookupAndSearchCases,
    artifactCases,
    rawSocketCases,
  ]) {
    section(g);
  }
  return cases;
}

/** Wrong types per field, overflowing and non-numeric numbers, missing fields. */
function predictValueCases(g: Gen): void {
  const { r, features, add, values, valid, predict } = g;
  // ---- /api/predict: wrong type per field, in records and in the split form
  const wrong = ['"5"', '"abc"', '""', 'null', 'true', 'false', '{}', '{"v":1}', '[]', '[1]', '"1e3"'];
  for (const f of features) {
    for (const w of wrong) {
      add(predict('predict.wrong-type', `{"inputs":[${valid()},${recordText(features, values(), { key: f, raw: w })}]}`, [400]));
    }
    const j = features.indexOf(f);
    const row = values().map(String);
    row[j] = r.pick(wrong);
    add(predict('predict.wrong-type-split', `{"columns":${JSON.stringify(features)},"data":[[${row.join(',')}]]}`, [400]));
  }
  // huge and tiny numbers written raw: finite ones predict, overflowing ones are refused
  for (const raw of ['1e308', '-1e308', '1.7976931348623157e308', '5e-324', '1e-400', '123456789012345678901234567890']) {
    add(predict('predict.huge-finite', `{"inputs":[${recordText(features, values(), { key: r.pick(features), raw })}]}`, [200]));
  }
  for (const raw of ['1e999', '-1e999', '1e309', '-2e308', '9'.repeat(400)]) {
    for (let k = 0; k < 3; k++) add(predict('predict.overflow', `{"inputs":[${recordText(features, values(), { key: r.pick(features), raw })}]}`, [400]));
  }
  for (const raw of ['"NaN"', '"Infinity"', '"-Infinity"', '"inf"', '"nan"']) {
    for (let k = 0; k < 2; k++) add(predict('predict.nan-string', `{"inputs":[${recordText(features, values(), { key: r.pick(features), raw })}]}`, [400]));
  }
  for (const raw of ['NaN', 'Infinity', '-Infinity', 'undefined', 'inf', '0x10', '.5', '01', '+1', '1.', '--1']) {
    for (let k = 0; k < 2; k++) add(predict('predict.invalid-number-token', `{"inputs":[${recordText(features, values(), { key: r.pick(features), raw })}]}`, [400]));
  }
  // missing fields
  for (let k = 0; k < 24; k++) {
    const drop = new Set(features.filter(() => r.next() < 0.4));
    if (drop.size === 0) drop.add(r.pick(features));
    const kept = features.filter((f) => !drop.has(f));
    const v = values();
    add(predict('predict.missing-field', `{"inputs":[{${kept.map((f) => `${JSON.stringify(f)}:${v[features.indexOf(f)]}`).join(',')}}]}`, [400]));
  }
  add(predict('predict.missing-field', `{"columns":${JSON.stringify(features.slice(1))},"data":[[${values().slice(1).join(',')}]]}`, [400]));
  add(predict('predict.missing-field', `{"columns":${JSON.stringify(features)}}`, [400]));
  add(predict('predict.missing-field', `{"data":[[${values().join(',')}]]}`, [400]));
}

/** Extra fields, empty or wrongly shaped inputs, too many rows, deep nesting, missing bodies. */
function predictShapeCases(g: Gen): void {
  const { features, add, values, valid, predict, auth } = g;
  // extra fields, in records and at the top
  const extraNames = ['extra', 'PatientID', 'Diabetic', 'age', 'Age ', ' BMI', 'bmi', 'x'.repeat(300)];
  for (const name of extraNames) {
    add(predict('predict.extra-field', `{"inputs":[${recordText(features, values(), undefined, [[name, '1']])}]}`, [400]));
    add(predict('predict.extra-top-level', `{"inputs":[${valid()}],${JSON.stringify(name)}:1}`, [400]));
  }
  add(predict('predict.extra-top-level', `{"inputs":[${valid()}],"columns":${JSON.stringify(features)},"data":[[${values().join(',')}]]}`, [400]));
  add(predict('predict.extra-field', `{"columns":${JSON.stringify([...features, 'extra'])},"data":[[${[...values(), 1].join(',')}]]}`, [400]));
  add(predict('predict.extra-field', `{"columns":${JSON.stringify([...features, features[0]])},"data":[[${[...values(), 1].join(',')}]]}`, [400]));
  add(predict('predict.extra-field', `{"columns":${JSON.stringify(features)},"data":[[${[...values(), 1].join(',')}]]}`, [400]));
  // empty and wrongly shaped inputs
  for (const body of [
    '{}',
    '{"inputs":[]}',
    '{"inputs":{}}',
    '{"inputs":null}',
    '{"inputs":"all"}',
    '{"inputs":1}',
    '{"inputs":[{}]}',
    '{"inputs":[null]}',
    '{"inputs":[[]]}',
    '{"inputs":[1,2,3]}',
    '{"columns":[],"data":[]}',
    `{"columns":${JSON.stringify(features)},"data":[]}`,
    `{"columns":${JSON.stringify(features)},"data":[[]]}`,
    `{"columns":${JSON.stringify(features)},"data":{}}`,
    `{"columns":${JSON.stringify(features)},"data":[null]}`,
    `{"columns":"${features.join(',')}","data":[[1]]}`,
    `{"columns":[1,2,3],"data":[[1,2,3]]}`,
    '[]',
    '[{}]',
    'null',
    'true',
    '0',
    '"inputs"',
  ]) {
    add(predict('predict.empty-or-shape', body, [400]));
  }
  // too many rows: 10,001 is one over the limit (records and split)
  const row = valid();
  add(predict('predict.too-many-rows', `{"inputs":[${Array.from({ length: 10_001 }, () => row).join(',')}]}`, [413]));
  const splitRow = `[${values().join(',')}]`;
  add(predict('predict.too-many-rows', `{"columns":${JSON.stringify(features)},"data":[${Array.from({ length: 10_001 }, () => splitRow).join(',')}]}`, [413]));
  add(predict('predict.too-many-rows', `{"inputs":[${Array.from({ length: 10_001 }, () => '1').join(',')}]}`, [413]));
  // deep nesting
  for (const depth of [1_000, 10_000, 100_000]) {
    add(predict('predict.deep-nesting', `{"inputs":${nested(depth, '[', ']')}}`, [400]));
    add(predict('predict.deep-nesting', `{"inputs":[${nested(depth, '{"a":', '}')}]}`, [400]));
    add(predict('predict.deep-nesting', nested(depth, '[', ']'), [400]));
    add(predict('predict.deep-nesting', nested(depth, '{"inputs":', '}', '[]'), [400]));
  }
  add(predict('predict.deep-nesting', `{"inputs":${'['.repeat(100_000)}`, [400]));
  // missing and empty bodies
  add({ family: 'predict.missing-body', method: 'POST', path: '/api/predict', headers: auth, expect: [400] });
  add(predict('predict.empty-json-body', '', [400]));
  add(predict('predict.empty-json-body', '   ', [400]));
  add(predict('predict.empty-json-body', '\n', [400]));
}

/** Content types, malformed JSON, authentication, methods, odd keys, prototype pollution. */
function predictTransportCases(g: Gen): void {
  const { r, features, key, revokedKey, add, values, valid, predict, auth, json, good } = g;
  // bad content types
  for (const ct of [
    'text/plain',
    'text/plain; charset=utf-8',
    'application/xml',
    'text/xml',
    'multipart/form-data; boundary=xyz',
    'application/x-www-form-urlencoded',
    'application/octet-stream',
    'text/csv',
    'application/jsonx',
    'image/png',
    'application/json-patch+json',
    '*/*',
  ]) {
    add(predict('predict.content-type', `{"inputs":[${valid()}]}`, [415], { 'content-type': ct, ...auth }));
  }
  add(predict('predict.content-type', '--xyz\r\nContent-Disposition: form-data; name="inputs"\r\n\r\n[]\r\n--xyz--\r\n', [415], { 'content-type': 'multipart/form-data; boundary=xyz', ...auth }));
  add(predict('predict.content-type', '<inputs><Age>3</Age></inputs>', [415], { 'content-type': 'application/xml', ...auth }));
  add(predict('predict.content-type', `{"inputs":[${valid()}]}`, [415], { ...auth }));
  add(predict('predict.content-type', `{"inputs":[${valid()}]}`, [400, 415], { 'content-type': '', ...auth }));
  // malformed JSON
  for (let k = 0; k < 30; k++) {
    const cut = 1 + r.int(good.length - 2);
    add(predict('predict.malformed-json', good.slice(0, cut), [400]));
  }
  for (const body of [
    `{"inputs":[${valid()},]}`,
    `{'inputs':[${valid()}]}`,
    `{inputs:[${valid()}]}`,
    `{"inputs":[${valid()}]} // comment`,
    `/* c */{"inputs":[${valid()}]}`,
    `{"inputs":[${valid()}]}}`,
    `{"inputs":[${valid()}]}garbage`,
    `{"inputs":[${valid()}]}{"inputs":[]}`,
    `{"inputs" [${valid()}]}`,
    `{"inputs":[${valid()}`,
    '{"inputs":[{"Age":1,"Age":2}]}',
    '\u0000',
    '{"\\ud800":1}',
    '{"a":"\\u12"}',
    '{"a":"\\x41"}',
    '{"a":"line\nbreak"}',
  ]) {
    add(predict('predict.malformed-json', body, [400]));
  }
  add(predict('predict.malformed-json', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), [400]));
  add(predict('predict.malformed-json', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(good)]), [200, 400]));
  add(predict('predict.malformed-json', Buffer.from(good, 'utf16le'), [400]));
  // authentication
  for (const [label, value] of [
    ['none', undefined],
    ['empty', ''],
    ['scheme only', 'Bearer'],
    ['scheme and space', 'Bearer '],
    ['basic', `Basic ${Buffer.from('user:pass').toString('base64')}`],
    ['token scheme', `Token ${key}`],
    ['key without scheme', key],
    ['two keys', `Bearer ${key} ${key}`],
    ['revoked', `Bearer ${revokedKey}`],
    ['wrong secret', `Bearer ${key.slice(0, -4)}AAAA`],
    ['unknown id', `Bearer flx_000000000000_${key.slice(-43)}`],
    ['truncated', `Bearer ${key.slice(0, -1)}`],
    ['garbage', 'Bearer not-a-key'],
    ['long', `Bearer ${'x'.repeat(8000)}`],
    ['unicode', 'Bearer flx_ünïcødé'],
    ['sql', "Bearer ' OR 1=1 --"],
  ] as Array<[string, string | undefined]>) {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (value !== undefined) headers.authorization = value;
    add(predict(`predict.auth (${label})`, good, [401], headers));
  }
  // wrong methods and paths
  for (const method of ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
    const bodiless = method === 'GET' || method === 'OPTIONS';
    add({ family: 'predict.wrong-method', method, path: '/api/predict', headers: bodiless ? auth : json, ...(bodiless ? {} : { body: good }), expect: [404, 405] });
  }
  add({ family: 'predict.wrong-method', method: 'HEAD', path: '/api/predict', headers: auth, expect: [404, 405] });
  for (const method of ['POST', 'PUT', 'DELETE']) {
    add({ family: 'predict.wrong-method', method, path: '/api/health', headers: json, body: good, expect: [404, 405] });
    add({ family: 'predict.wrong-method', method, path: '/api/model-info', headers: json, body: good, expect: [404, 405] });
  }
  for (const p of ['/api/predict/', '/api/predict/x', '/api//predict', '/API/PREDICT', '/api/predict%00', '/api/predict?inputs=1', '/api/predict#x']) {
    add({ family: 'predict.odd-path', method: 'POST', path: p, headers: json, body: good });
  }
  // unicode and control characters in keys
  for (const k of ['Age\u0000', '\u0000', 'Ag\u0007e', '\u202eegA', '🎉', 'Âge', 'A\u0301ge', '\ufeffAge', '\u2028', ' ', '', 'Age\n', '\t', 'ＡＧＥ']) {
    add(predict('predict.weird-key', `{"inputs":[${recordText(features, values(), undefined, [[k, '1']])}]}`, [400]));
    add(predict('predict.weird-key', `{"inputs":[${valid()}],${JSON.stringify(k)}:1}`, [400]));
  }
  add(predict('predict.weird-key', '{"inputs":[{"\\ud83d":1}]}', [400]));
  add(predict('predict.weird-key', '{"inputs":[{"\\udc00\\ud800":1}]}', [400]));
  // prototype pollution
  const polluted = ['{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}', '{"__proto__":{"inputs":[]}}', '{"constructor":1}', '{"prototype":1}', '{"toString":1}', '{"hasOwnProperty":1}', '{"__defineGetter__":1}'];
  for (const p of polluted) {
    const inner = p.slice(1, -1);
    add(predict('predict.proto-pollution', `{"inputs":[${valid()}],${inner}}`, [400]));
    add(predict('predict.proto-pollution', `{"inputs":[${valid().slice(0, -1)},${inner}}]}`, [400]));
    add(predict('predict.proto-pollution', p, [400]));
  }
  add(predict('predict.proto-pollution', `{"inputs":[${valid()}],"\\u005f\\u005fproto\\u005f\\u005f":{"polluted":1}}`, [400]));
  add(predict('predict.proto-pollution', `{"columns":["__proto__"],"data":[[1]]}`, [400]));
  add(predict('predict.proto-pollution', `{"columns":["constructor","toString"],"data":[[1,2]]}`, [400]));

}

/** POST /api/v1/runs with every field of the wrong type. */
function runCreateCases(g: Gen): void {
  const { add, post } = g;
  // ---- tracking API
  const badValues = ['"x"', '""', 'null', 'true', '{}', '[]', '[1]', '-1', '1e308', '1e999', '-1e999', '1.5', '"NaN"', '9007199254740993', '{"__proto__":1}'];
  for (const field of ['experimentId', 'runName', 'userId', 'startTime', 'tags', 'sourceName', 'sourceVersion']) {
    for (const v of badValues) add(post('runs.create-field-type', '/api/v1/runs', `{${JSON.stringify(field)}:${v}}`));
  }
  for (const body of ['', '[]', 'null', '{"experimentId":"0","tags":{"k":"v","../x":"y"}}', '{"experimentId":"0","tags":{"":"y"}}', `{"experimentId":"0","runName":"${'n'.repeat(5000)}"}`, '{"experimentId":"../../etc"}', '{"experimentId":"99999999999999999999"}', '{"experimentId":"-1"}']) {
    add(post('runs.create-shape', '/api/v1/runs', body));
  }
  add(post('runs.create-shape', '/api/v1/runs', '{"experimentId":"0"}', [415], { 'content-type': 'text/plain' }));
  add(post('runs.create-shape', '/api/v1/runs', '<run/>', [415], { 'content-type': 'application/xml' }));
  add(post('runs.create-shape', '/api/v1/runs', nested(100_000, '{"tags":', '}', '{}'), [400]));
  add(post('runs.create-shape', '/api/v1/runs', nested(100_000, '[', ']'), [400]));
  add(post('runs.create-shape', '/api/v1/runs', '{"__proto__":{"experimentId":"0"}}', [400]));
  add(post('runs.create-shape', '/api/v1/runs', '{"experimentId":"0","tags":{"constructor":{"prototype":{"x":"y"}}}}', [400]));

}

/** Metric batches: bad values, steps, timestamps, keys, sizes; single metric, param and tag writes. */
function batchCases(g: Gen): void {
  const { r, runId, add, post, tjson, runPath } = g;
  const metric = (over: Record<string, string> = {}): string => {
    const m: Record<string, string> = { key: '"loss"', value: String(r.next()), step: String(r.int(100)), timestamp: String(1_700_000_000_000 + r.int(1000)), ...over };
    return `{${Object.entries(m)
      .filter(([, v]) => v !== '')
      .map(([k, v]) => `"${k}":${v}`)
      .join(',')}}`;
  };
  const batch = (family: Family, metrics: string[], expectStatus?: number[]): Case => post(family, `${runPath}/batch`, `{"metrics":[${metrics.join(',')}]}`, expectStatus);
  for (const v of ['"abc"', '""', '{}', '[]', '"nan "', '"Infinity1"', '"1e3x"']) add(batch('batch.metric-value-type', [metric(), metric({ value: v })], [400]));
  // JSON bodies are validated without type coercion: a wrongly typed value is refused, not converted.
  for (const v of ['"1"', 'null', 'true', 'false', '[1]']) add(batch('batch.metric-value-coerced', [metric({ value: v })], [400]));
  for (const k of ['1', '["a"]', '"a//b"', '"a/"']) add(batch('batch.metric-key-odd', [metric({ key: k })], [400]));
  add(batch('batch.metric-key-odd', [metric({ key: '"a "' })], [200]));
  for (const v of ['"NaN"', '"Infinity"', '"-Infinity"', '1e308', '-1e308', '1e999', '-1e999', '5e-324']) add(batch('batch.metric-value-special', [metric({ value: v })], [200]));
  for (const v of ['NaN', 'Infinity', '-Infinity']) add(batch('batch.metric-value-raw-token', [metric({ value: v })], [400]));
  for (const s of ['-1', '-9007199254740991', '9007199254740991', '0']) add(batch('batch.step-edge', [metric({ step: s })], [200]));
  for (const s of ['1e20', '-1e20', '9007199254740993', '1e999', '1.5', '"x"', '[]', '{}']) add(batch('batch.step-bad', [metric({ step: s })], [400]));
  for (const ts of ['-1', '-1e15', '1e20', '1e999', '1.5', '"yesterday"', '9007199254740993']) add(batch('batch.timestamp-bad', [metric({ timestamp: ts })], [400]));
  for (const v of ['true', 'false', 'null', '"7"']) {
    add(batch('batch.step-coerced', [metric({ step: v })], [400]));
    add(batch('batch.timestamp-coerced', [metric({ timestamp: v })], [400]));
  }
  for (const ts of ['0', '9007199254740991']) add(batch('batch.timestamp-edge', [metric({ timestamp: ts })], [200]));
  for (const k of ['"../x"', '"a/../../b"', '"/abs"', '".."', '"."', '"a/./b"', '""', '"a\\u0000b"', '"a\\\\b"', '"a\\nb"', '"ä"', '"a;drop table metrics"', `"${'k'.repeat(251)}"`, 'null', '{}', '"%2e%2e/x"']) {
    add(batch('batch.metric-key-bad', [metric({ key: k })], [400]));
  }
  for (const n of [1001, 1500, 5000]) add(batch('batch.too-many-metrics', Array.from({ length: n }, () => metric()), [400]));
  add(batch('batch.huge-array', Array.from({ length: 200_000 }, () => '1'), [400]));
  add(batch('batch.max-metrics', Array.from({ length: 1000 }, (_, i) => metric({ key: `"m${i % 7}"` })), [200]));
  add(post('batch.params-too-many', `${runPath}/batch`, `{"params":[${Array.from({ length: 101 }, (_, i) => `{"key":"p${i}","value":"v"}`).join(',')}]}`, [400]));
  add(post('batch.params-bad', `${runPath}/batch`, '{"params":[{"key":"p","value":1}]}', [200, 400]));
  add(post('batch.params-bad', `${runPath}/batch`, '{"params":[{"key":"dup","value":"a"},{"key":"dup","value":"b"}]}', [400]));
  add(post('batch.params-bad', `${runPath}/batch`, `{"params":[{"key":"big","value":"${'v'.repeat(6001)}"}]}`, [400]));
  add(post('batch.tags-bad', `${runPath}/batch`, '{"tags":[{"key":"../t","value":"v"}]}', [400]));
  add(post('batch.tags-bad', `${runPath}/batch`, '{"tags":{"k":"v"}}', [400]));
  for (const body of ['', 'null', '[]', '{"metrics":{}}', '{"metrics":"loss"}', '{"metrics":[null]}', '{"metrics":[[]]}', '{"metrics":[{}]}', '{"metrics":[{"key":"a"}]}', '{"metrics":[{"value":1}]}', '{"metrics":[]}', '{}', '{"unknown":1}']) {
    add(post('batch.shape', `${runPath}/batch`, body));
  }
  add(post('batch.shape', `${runPath}/batch`, `{"metrics":${nested(100_000, '[', ']')}}`, [400]));
  add(post('batch.shape', `${runPath}/batch`, '{"metrics":[{"key":"a","value":1,"__proto__":{"step":1}}]}', [400]));
  add(post('batch.content-type', `${runPath}/batch`, '{"metrics":[]}', [415], { 'content-type': 'text/plain' }));
  for (const id of ['0'.repeat(32), 'ABCDEF'.padEnd(32, '0'), '../../etc/passwd', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', '%00', 'x'.repeat(999), `${runId}%00`, `${runId}%20`]) {
    add({ ...batch('batch.bad-run-id', [metric()]), path: `/api/v1/runs/${id}/batch` });
  }
  add(post('metric.single', `${runPath}/metrics`, '{"key":"a","value":"abc"}', [400]));
  add(post('metric.single', `${runPath}/metrics`, '{"key":"a","value":1,"step":-5}', [200]));
  add(post('metric.single', `${runPath}/metrics`, '{"key":"a","value":1e999}', [200]));
  add(post('metric.single', `${runPath}/metrics`, '{"key":"../../a","value":1}', [400]));
  add(post('param.single', `${runPath}/params`, '{"key":"../../a","value":"1"}', [400]));
  add({ family: 'tag.single', method: 'PUT', path: `${runPath}/tags`, headers: tjson, body: '{"key":"a\\u0000","value":"1"}', expect: [400] });
  add({ family: 'tag.delete', method: 'DELETE', path: `${runPath}/tags/..%2F..%2Fx`, expect: [400, 404] });
  add({ family: 'metric.history', method: 'GET', path: `${runPath}/metrics/..%2F..%2Fx/history` });
  add({ family: 'metric.history', method: 'GET', path: `${runPath}/metrics/loss/history?maxResults=0`, expect: [400] });
  add({ family: 'metric.history', method: 'GET', path: `${runPath}/metrics/loss/history?maxResults=1e999`, expect: [400] });
  add({ family: 'metric.history', method: 'GET', path: `${runPath}/metrics/loss/history?pageToken=%00%01`, expect: [400] });
  add({ family: 'metric.history', method: 'GET', path: `${runPath}/metrics/loss/history?pageToken=${token({ offset: 1e300 })}` });
  add({ family: 'metric.history', method: 'GET', path: `${runPath}/metrics/loss/history?pageToken=${token({ offset: 2 ** 63 })}` });
  add({ family: 'metric.history', method: 'GET', path: `${runPath}/metrics/loss/history?pageToken=${token({ offset: 2 ** 53 + 2 })}` });
  add({ family: 'run.update', method: 'PATCH', path: runPath, headers: tjson, body: '{"status":"EXPLODED"}', expect: [400] });
  add({ family: 'run.update', method: 'PATCH', path: runPath, headers: tjson, body: '{"endTime":-1}', expect: [400] });
  add({ family: 'run.update', method: 'PATCH', path: runPath, headers: tjson, body: '{"endTime":1e999}', expect: [400] });
  add({ family: 'run.inputs', method: 'POST', path: `${runPath}/inputs`, headers: tjson, body: `{"datasets":[{"name":"d","digest":"${'d'.repeat(65)}","sourceType":"x","source":"y"}]}`, expect: [400] });
  add({ family: 'run.inputs', method: 'POST', path: `${runPath}/inputs`, headers: tjson, body: '{"datasets":{}}', expect: [400] });

}

/** Experiments (create, bad ids, search) and registry listings, names and sources. */
function experimentAndRegistryCases(g: Gen): void {
  const { r, add, post, tjson } = g;
  // experiments
  for (const v of ['""', '"   "', 'null', '{}', '[]', `"${'e'.repeat(501)}"`, '"Default"']) add(post('experiments.create', '/api/v1/experiments', `{"name":${v}}`, [400]));
  for (const v of ['1', 'true', '["x"]']) add(post('experiments.create-coerced', '/api/v1/experiments', `{"name":${v}}`, [400]));
  for (const body of ['', '{}', '[]', '{"name":"ok-but","tags":[{"key":"../x","value":"v"}]}', '{"name":"ok2","tags":{"k":"v"}}', '{"name":"ok3","tags":[{"key":"k"}]}']) add(post('experiments.create', '/api/v1/experiments', body, [400]));
  for (let k = 0; k < 8; k++) {
    const name = Array.from({ length: 1 + r.int(40) }, () => String.fromCharCode(r.pick([0x00, 0x01, 0x1f, 0x7f, 0x202e, 0xfeff, 0x41 + r.int(26), 0x4e00 + r.int(100), 0x2f, 0x5c, 0x2e]))).join('');
    add(post('experiments.create-odd-name', '/api/v1/experiments', JSON.stringify({ name })));
  }
  for (const id of ['abc', '-1', '1.5', '99999999999999999999', '1e3', '0x10', '../../etc/passwd', '..%2F..%2Fetc%2Fpasswd', '%00', '%2e%2e', 'x'.repeat(1000), '%201', '%E0%A4%A']) {
    add({ family: 'experiments.get-bad-id', method: 'GET', path: `/api/v1/experiments/${id}` });
    add({ family: 'experiments.delete-bad-id', method: 'DELETE', path: `/api/v1/experiments/${id}` });
  }
  add({ family: 'experiments.get-bad-id', method: 'GET', path: `/api/v1/experiments/${'9'.repeat(5000)}` });
  add({ family: 'experiments.by-name', method: 'GET', path: '/api/v1/experiments/by-name/%00', expect: [400, 404] });
  add({ family: 'experiments.by-name', method: 'GET', path: `/api/v1/experiments/by-name/${'n'.repeat(900)}`, expect: [400, 404] });
  add({ family: 'experiments.search', method: 'GET', path: '/api/v1/experiments?maxResults=-1', expect: [400] });
  add({ family: 'experiments.search', method: 'GET', path: '/api/v1/experiments?maxResults=abc', expect: [400] });
  add({ family: 'experiments.search', method: 'GET', path: '/api/v1/experiments?viewType=NONE', expect: [400] });
  add({ family: 'experiments.search', method: 'GET', path: '/api/v1/experiments?pageToken=garbage', expect: [400] });
  add({ family: 'experiments.search', method: 'GET', path: `/api/v1/experiments?pageToken=${token({ offset: 1e300 })}` });
  add({ family: 'experiments.search', method: 'GET', path: '/api/v1/experiments?nameLike=%25%25%25%25%5F%5F' });
  add({ family: 'experiments.search', method: 'GET', path: '/api/v1/experiments?maxResults=1&maxResults=2' });

  // registry listings share the page-token decoding
  for (const t of [token({ offset: 1e300 }), token({ offset: 2 ** 63 }), token({ offset: -1 }), 'garbage', '%00']) {
    add({ family: 'registry.page-token', method: 'GET', path: `/api/v1/models?pageToken=${t}`, expect: [400] });
    add({ family: 'registry.page-token', method: 'GET', path: `/api/v1/models/diabetes/versions?pageToken=${t}`, expect: [400] });
  }
  for (const name of ['..%2F..%2Fetc', '%00', 'x'.repeat(999), '%E0%A4%A']) {
    add({ family: 'registry.bad-name', method: 'GET', path: `/api/v1/models/${name}` });
    add({ family: 'registry.bad-name', method: 'GET', path: `/api/v1/models/${name}/versions/1` });
  }
  add({ family: 'registry.bad-version', method: 'GET', path: '/api/v1/models/diabetes/versions/-1' });
  add({ family: 'registry.bad-version', method: 'GET', path: '/api/v1/models/diabetes/versions/1e999' });
  add({ family: 'registry.bad-version', method: 'GET', path: `/api/v1/models/diabetes/versions/${'9'.repeat(400)}` });
  add({ family: 'registry.register', method: 'POST', path: '/api/v1/models/diabetes/versions', headers: tjson, body: '{"source":"runs:/../../etc/passwd"}', expect: [400, 404] });
  add({ family: 'registry.register', method: 'POST', path: '/api/v1/models/diabetes/versions', headers: tjson, body: '{"source":"mlflow-artifacts:/../../../etc"}', expect: [400, 404] });
  add({ family: 'registry.register', method: 'POST', path: '/api/v1/models/diabetes/versions', headers: tjson, body: '{"source":"file:///etc/passwd"}' });

}

/** Runs looked up by bad ids, and run search with garbage filters and bodies. */
function runLookupAndSearchCases(g: Gen): void {
  const { r, runId, add, post } = g;
  // runs: GET with bad ids
  for (const id of ['../../etc/passwd', '..%2F..%2Fetc%2Fpasswd', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', '%00', `${runId}%00`, 'x'.repeat(1000), 'x'.repeat(5000), '%E0%A4%A', '%', '%%', `${runId.toUpperCase()}`, '0', encodeURIComponent("'; drop table runs; --"), '%F0%9F%98%80']) {
    add({ family: 'runs.get-bad-id', method: 'GET', path: `/api/v1/runs/${id}` });
    add({ family: 'runs.delete-bad-id', method: 'DELETE', path: `/api/v1/runs/${id}` });
  }

  // runs/search with garbage filters
  const filterTokens = ['metrics.', 'params.', 'tags.', 'attributes.', 'attr.', 'run.', 'loss', '`a b`', '"q"', "'x'", '=', '!=', '<', '<=', '>', '>=', '==', 'LIKE', 'ILIKE', 'IN', 'NOT', 'AND', 'OR', '(', ')', ',', '.', '1', '-1', '1e999', '1e-999', '.5', 'NaN', "'", '"', '`', '\\', ';', '--', '/*', '%', '_', 'status', 'start_time', 'run_id', 'select', '\u0000', '🎉', '$1', '?'];
  for (let k = 0; k < 60; k++) {
    const filter = Array.from({ length: 1 + r.int(12) }, () => r.pick(filterTokens)).join(r.next() < 0.5 ? ' ' : '');
    add(post('search.garbage-filter', '/api/v1/runs/search', JSON.stringify({ experimentIds: ['0'], filter })));
  }
  for (const filter of [
    'metrics.loss > 1e999',
    'metrics.loss < -1e999',
    'metrics.loss = NaN',
    'attributes.start_time > 1e400',
    'attributes.start_time > 99999999999999999999999',
    "params.x IN ('a',)",
    `params.x IN (${Array.from({ length: 2000 }, (_, i) => `'${i}'`).join(',')})`.slice(0, 9999),
    `metrics.${'a'.repeat(9980)} > 1`,
    'x'.repeat(10_001),
    "tags.`mlflow.runName` LIKE '%'",
    "tags.a = 'unterminated",
    "params.a LIKE '[*?]'",
    "attributes.status IN ('RUNNING') AND metrics.loss > 0 AND params.a = 'b' AND tags.c != 'd'",
    Array.from({ length: 400 }, (_, i) => `metrics.m${i} > 0`).join(' AND ').slice(0, 10_000),
  ]) {
    add(post('search.edge-filter', '/api/v1/runs/search', JSON.stringify({ experimentIds: ['0'], filter })));
  }
  for (const body of [
    '{}',
    '{"experimentIds":[]}',
    '{"experimentIds":"0"}',
    '{"experimentIds":[null]}',
    '{"experimentIds":["abc"]}',
    '{"experimentIds":["-1"]}',
    '{"experimentIds":["99999999999999999999"]}',
    '{"experimentIds":[1e999]}',
    '{"experimentIds":["0"],"maxResults":0}',
    '{"experimentIds":["0"],"maxResults":1e9}',
    '{"experimentIds":["0"],"maxResults":"many"}',
    '{"experimentIds":["0"],"viewType":"EVERYTHING"}',
    '{"experimentIds":["0"],"orderBy":["metrics.loss SIDEWAYS"]}',
    '{"experimentIds":["0"],"orderBy":["\'"]}',
    '{"experimentIds":["0"],"orderBy":"metrics.loss"}',
    '{"experimentIds":["0"],"orderBy":[1]}',
    '{"experimentIds":["0"],"pageToken":"%%%"}',
    `{"experimentIds":["0"],"pageToken":"${token({ offset: 1e300 })}"}`,
    `{"experimentIds":["0"],"pageToken":"${token({ offset: 2 ** 63 })}"}`,
    `{"experimentIds":["0"],"pageToken":"${token({ offset: -5 })}"}`,
    `{"experimentIds":["0"],"pageToken":"${token({ offset: '5' })}"}`,
    `{"experimentIds":["0"],"pageToken":"${Buffer.from('{"offset":1e999}').toString('base64url')}"}`,
    `{"experimentIds":${JSON.stringify(Array.from({ length: 5000 }, () => '0'))}}`,
    `{"experimentIds":["0"],"filter":${nested(1000, '{"a":', '}')}}`,
  ]) {
    add(post('search.bad-body', '/api/v1/runs/search', body));
  }

}

/** Path traversal and odd paths in artifact uploads, downloads and listings. */
function artifactCases(g: Gen): void {
  const { add, art } = g;
  // ---- artifacts: path traversal and odd paths
  const traversal = [
    `../${MARKER}`,
    `../../${MARKER}`,
    `../../../../../../../../tmp/${MARKER}`,
    `a/../../${MARKER}`,
    `a/b/../../../${MARKER}`,
    `..%2F..%2F${MARKER}`,
    `%2e%2e/${MARKER}`,
    `%2e%2e%2f%2e%2e%2f${MARKER}`,
    `%2E%2E%2F${MARKER}`,
    `.%2e/${MARKER}`,
    `%2F${'etc'}%2F${MARKER}`,
    `%2Fetc%2Fpasswd`,
    `%2F%2Ftmp%2F${MARKER}`,
    `/tmp/${MARKER}`,
    `//tmp/${MARKER}`,
    `..\\..\\${MARKER}`,
    `..%5C..%5C${MARKER}`,
    `a%5C..%5C..%5C${MARKER}`,
    `C:%5C${MARKER}`,
    `C:/${MARKER}`,
    `${MARKER}%00.txt`,
    `a%00/../../${MARKER}`,
    `%00`,
    `a/%0a/${MARKER}`,
    `..%252F${MARKER}`,
    `%c0%ae%c0%ae/${MARKER}`,
    `..%c0%af${MARKER}`,
    `...${'/..'.repeat(30)}/${MARKER}`,
    `${'a/'.repeat(600)}${MARKER}`,
    `${'x'.repeat(300)}`,
    `${'y'.repeat(200)}/${'z'.repeat(200)}/${'w'.repeat(200)}`,
    '',
    '.',
    './',
    '..',
    '%2e',
    '%2e%2e',
  ];
  for (const p of traversal) {
    add({ family: 'artifacts.put-traversal', method: 'PUT', path: `${art}/${p}`, headers: { 'content-type': 'application/octet-stream' }, body: `pwned ${p}` });
    add({ family: 'artifacts.get-traversal', method: 'GET', path: `${art}/${p}` });
    add({ family: 'artifacts.list-traversal', method: 'GET', path: `${art}?path=${encodeURIComponent(p.replace(/%2F/gi, '/'))}` });
  }
  add({ family: 'artifacts.put-no-type', method: 'PUT', path: `${art}/notype.bin`, body: 'no content type' });
  add({ family: 'artifacts.put-conflict', method: 'PUT', path: `${art}/model/fluxops-model.json/child`, headers: { 'content-type': 'application/octet-stream' }, body: 'x', expect: [400] });
  add({ family: 'artifacts.put-conflict', method: 'PUT', path: `${art}/model/fluxops-model.json/a/b/c`, headers: { 'content-type': 'application/octet-stream' }, body: 'x', expect: [400] });
  add({ family: 'artifacts.put-conflict', method: 'PUT', path: `${art}/model`, headers: { 'content-type': 'application/octet-stream' }, body: 'x', expect: [400] });
  add({ family: 'artifacts.put-long-name', method: 'PUT', path: `${art}/${'n'.repeat(256)}`, headers: { 'content-type': 'application/octet-stream' }, body: 'x', expect: [400] });
  add({ family: 'artifacts.put-long-name', method: 'PUT', path: `${art}/${'ü'.repeat(200)}`, headers: { 'content-type': 'application/octet-stream' }, body: 'x', expect: [400] });
  add({ family: 'artifacts.get-dir', method: 'GET', path: `${art}/model` });
  add({ family: 'artifacts.bad-run', method: 'PUT', path: `/api/v1/runs/../../artifacts/${MARKER}`, headers: { 'content-type': 'application/octet-stream' }, body: 'x' });
  add({ family: 'artifacts.bad-run', method: 'PUT', path: `/api/v1/runs/${'0'.repeat(32)}/artifacts/${MARKER}`, headers: { 'content-type': 'application/octet-stream' }, body: 'x', expect: [404] });

}

/** Raw sockets: invalid HTTP, lying lengths, stalls, no content type, 10 MB bodies. */
function rawSocketCases(g: Gen): void {
  const { key, runId, add, valid, predict, good, art } = g;
  // ---- raw sockets: invalid HTTP, lying lengths, bodies without a content type, huge bodies
  const host = 'Host: 127.0.0.1\r\n';
  const rawCase = (family: Family, text: string | Buffer, extra: Partial<Case> = {}): Case => ({
    family,
    method: 'RAW',
    path: '(raw)',
    raw: Buffer.isBuffer(text) ? text : Buffer.from(text, 'latin1'),
    ...extra,
  });
  const authLine = `Authorization: Bearer ${key}\r\n`;
  for (const text of [
    'HELLO\r\n\r\n',
    'GET\r\n\r\n',
    'GET / HTTP/9.9\r\n\r\n',
    'GET /api/health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
    'GET /api/health HTTP/1.1\r\nBad Header\r\n\r\n',
    'GET /api/health HTTP/1.1\r\n: empty-name\r\n\r\n',
    'GET /api/health HTTP/1.1\r\nX: a\rb\r\n\r\n',
    'GET /api/he alth HTTP/1.1\r\nHost: a\r\n\r\n',
    `GET /api/v1/runs/${runId}\u0000 HTTP/1.1\r\n${host}\r\n`,
    `GET /api/v1/runs/${runId}/artifacts/a\u0000b HTTP/1.1\r\n${host}\r\n`,
    `GET /api/v1/runs/${runId}/artifacts/..\\..\\${MARKER} HTTP/1.1\r\n${host}\r\n`,
    `PUT /api/v1/runs/${runId}/artifacts/..\\..\\${MARKER} HTTP/1.1\r\n${host}Content-Length: 1\r\n\r\nx`,
    `GET ${'/a'.repeat(40_000)} HTTP/1.1\r\n${host}\r\n`,
    `GET /api/health HTTP/1.1\r\n${host}X-Big: ${'b'.repeat(100_000)}\r\n\r\n`,
    `BREW /api/predict HTTP/1.1\r\n${host}\r\n`,
    `POST /api/predict HTTP/1.1\r\n${host}Content-Length: -1\r\n\r\n`,
    `POST /api/predict HTTP/1.1\r\n${host}Content-Length: abc\r\n\r\n`,
    `POST /api/predict HTTP/1.1\r\n${host}Content-Length: 5\r\nContent-Length: 6\r\n\r\n{}{}{}`,
    `POST /api/predict HTTP/1.1\r\n${host}Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`,
    `POST /api/predict HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n`,
    `POST /api/predict HTTP/1.1\r\n${host}Transfer-Encoding: gzip\r\n\r\n{}`,
    `POST /api/predict HTTP/1.1\r\n${host}Content-Length: 99999999999999999999999\r\n\r\n{}`,
  ]) {
    add(rawCase('raw.invalid-http', text, { mayClose: true }));
  }
  // Content-Length shorter than the body: the tail is read as a (broken) next request
  add(rawCase('raw.content-length-short', `POST /api/predict HTTP/1.1\r\n${host}${authLine}Content-Type: application/json\r\nContent-Length: 5\r\n\r\n${good}`, { expect: [400] }));
  add(rawCase('raw.content-length-short', `POST /api/v1/runs HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: 3\r\n\r\n{"experimentId":"0"}`, { expect: [400] }));
  // Content-Length longer than the body, then the client stops sending: answered or closed, never held
  add(rawCase('raw.content-length-long', `POST /api/predict HTTP/1.1\r\n${host}${authLine}Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n${good}`, { halfClose: true, mayClose: true }));
  add(rawCase('raw.content-length-long', `POST /api/v1/runs HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{}`, { halfClose: true, mayClose: true }));
  add(rawCase('raw.content-length-long', `PUT ${art}/partial.bin HTTP/1.1\r\n${host}Content-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\nonly a little`, { halfClose: true, mayClose: true }));
  // ... or stalls with the connection open: the request times out with a 408 instead of hanging
  add(rawCase('raw.content-length-stall', `POST /api/predict HTTP/1.1\r\n${host}${authLine}Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n${good}`, { expect: [408] }));
  add(rawCase('raw.content-length-stall', `PUT ${art}/stalled.bin HTTP/1.1\r\n${host}Content-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\nonly a little`, { expect: [408] }));
  add(rawCase('raw.content-length-stall', `POST /api/v1/runs/${runId}/batch HTTP/1.1\r\n${host}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{"\r\n`, { expect: [408] }));
  // a body with no content type at all
  add(rawCase('raw.no-content-type', `POST /api/predict HTTP/1.1\r\n${host}${authLine}Content-Length: ${Buffer.byteLength(good)}\r\n\r\n${good}`, { expect: [415] }));
  add(rawCase('raw.no-content-type', `POST /api/v1/runs HTTP/1.1\r\n${host}Content-Length: 2\r\n\r\n{}`, { expect: [415] }));
  add(rawCase('raw.no-content-type', `POST /api/predict HTTP/1.1\r\n${host}${authLine}Transfer-Encoding: chunked\r\n\r\n${Buffer.byteLength(good).toString(16)}\r\n${good}\r\n0\r\n\r\n`, { expect: [415] }));
  // 10 MB bodies, with and without a declared length
  const tenMb = Buffer.alloc(10 * 1024 * 1024, 0x20);
  const bigJson = Buffer.concat([Buffer.from(`{"inputs":[${valid()}],"pad":"`), Buffer.alloc(10 * 1024 * 1024, 0x61), Buffer.from('"}')]);
  add(rawCase('raw.10mb', Buffer.concat([Buffer.from(`POST /api/predict HTTP/1.1\r\n${host}${authLine}Content-Type: application/json\r\nContent-Length: ${bigJson.length}\r\n\r\n`), bigJson]), { expect: [413] }));
  add(rawCase('raw.10mb', Buffer.concat([Buffer.from(`POST /api/predict HTTP/1.1\r\n${host}${authLine}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${bigJson.length.toString(16)}\r\n`), bigJson, Buffer.from('\r\n0\r\n\r\n')]), { expect: [413] }));
  add(rawCase('raw.10mb', Buffer.concat([Buffer.from(`POST /api/v1/runs/${runId}/batch HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: ${tenMb.length}\r\n\r\n`), tenMb]), { expect: [413] }));
  add(rawCase('raw.10mb', Buffer.concat([Buffer.from(`POST /api/predict HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: ${tenMb.length}\r\n\r\n`), tenMb]), { expect: [401, 413] }));
  add(rawCase('raw.10mb-declared-only', `POST /api/predict HTTP/1.1\r\n${host}${authLine}Content-Type: application/json\r\nContent-Length: ${10 * 1024 * 1024}\r\n\r\n{`, { expect: [413] }));
  add(predict('predict.10mb', bigJson, [413]));
}

function token(v: unknown): string {
  return Buffer.from(JSON.stringify(v)).toString('base64url');
}

// ---------------------------------------------------------------- sending

async function sendHttp(pool: Pool, c: Case): Promise<Outcome> {
  const res = await pool.request({
    method: c.method,
    path: c.path,
    headers: c.headers ?? {},
    body: c.body,
    headersTimeout: HANG_MS,
    bodyTimeout: HANG_MS,
  });
  const body = await res.body.text();
  return { c, status: res.statusCode, body };
}

/** Writes raw bytes and reads one HTTP response (Content-Length or chunked), or notes a close. */
function sendRaw(port: number, c: Case): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (problem?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const parsed = parseResponse(Buffer.concat(chunks));
      if (parsed === undefined) {
        resolve({ c, status: undefined, body: '', problem: problem ?? (c.mayClose ? undefined : 'connection closed without a response') });
      } else {
        resolve({ c, status: parsed.status, body: parsed.body });
      }
    };
    const timer = setTimeout(() => finish(`no response or close within ${HANG_MS} ms (hang)`), HANG_MS);
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      if (parseResponse(Buffer.concat(chunks))?.complete) finish();
    });
    socket.on('error', () => undefined); // EPIPE/ECONNRESET once the server answered early and closed
    socket.on('close', () => finish());
    socket.write(c.raw!, () => {
      if (c.halfClose) socket.end();
    });
  });
}

function parseResponse(buf: Buffer): { status: number; body: string; complete: boolean } | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const head = buf.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '')?.[1]);
  if (!Number.isInteger(status)) return undefined;
  const headers = new Map(head.slice(1).map((l) => [l.slice(0, l.indexOf(':')).trim().toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  const rest = buf.subarray(end + 4);
  const length = headers.get('content-length');
  if (length !== undefined) {
    const n = Number(length);
    return { status, body: rest.subarray(0, n).toString('utf8'), complete: rest.length >= n };
  }
  if (headers.get('transfer-encoding') === 'chunked') {
    const parts: Buffer[] = [];
    let i = 0;
    for (;;) {
      const lineEnd = rest.indexOf('\r\n', i);
      if (lineEnd < 0) return { status, body: Buffer.concat(parts).toString('utf8'), complete: false };
      const size = parseInt(rest.subarray(i, lineEnd).toString('latin1'), 16);
      if (size === 0) return { status, body: Buffer.concat(parts).toString('utf8'), complete: true };
      parts.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
      i = lineEnd + 2 + size + 2;
      if (i > rest.length) return { status, body: Buffer.concat(parts).toString('utf8'), complete: false };
    }
  }
  return { status, body: rest.toString('utf8'), complete: false };
}

async function runAll(pool: Pool, port: number, cases: Case[]): Promise<Outcome[]> {
  const out: Outcome[] = new Array<Outcome>(cases.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= cases.length) return;
      const c = cases[i]!;
      try {
        out[i] = c.raw !== undefined ? await sendRaw(port, c) : await sendHttp(pool, c);
      } catch (e) {
        out[i] = { c, status: undefined, body: '', problem: `client error: ${(e as Error).message}` };
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return out;
}

function judge(o: Outcome): string | undefined {
  if (o.problem !== undefined) return o.problem;
  if (o.status === undefined) return o.c.mayClose ? undefined : 'no response';
  if (o.status >= 500) return `status ${o.status}`;
  if (o.c.expect !== undefined && !o.c.expect.includes(o.status)) return `status ${o.status}, expected ${o.c.expect.join(' or ')}`;
  if (o.status >= 400 && o.c.method !== 'HEAD') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(o.body);
    } catch {
      return `status ${o.status} with a body that is not JSON`;
    }
    const b = parsed as { error_code?: unknown; message?: unknown };
    if (typeof b.error_code !== 'string' || b.error_code === '') return `status ${o.status} without error_code`;
    if (typeof b.message !== 'string' || b.message.trim() === '') return `status ${o.status} without a message`;
    if (/\bat .+\.(js|ts):\d+/.test(o.body)) return `status ${o.status} leaks a stack trace`;
  }
  return undefined;
}

function describeCase(c: Case): string {
  const payload = c.raw ?? c.body;
  const text = payload === undefined ? '' : Buffer.isBuffer(payload) ? payload.subarray(0, 160).toString('latin1') : payload.slice(0, 160);
  const size = payload === undefined ? 0 : Buffer.byteLength(payload);
  return `[${c.family}] ${c.method} ${c.path.slice(0, 160)}${c.headers ? ` ${JSON.stringify(c.headers).slice(0, 160)}` : ''} body(${size} B)=${JSON.stringify(text)}`;
}

/** Every regular file under a folder, as absolute paths. */
function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

// ---------------------------------------------------------------- the test

describe('hostile input against the real server', () => {
  let sandbox: string;
  let home: string;
  let platform: Platform;
  let app: App;
  let pool: Pool;
  let port: number;
  let key: string;
  let revokedKey: string;
  let runId: string;
  let features: string[];
  let validBody: string;

  beforeAll(async () => {
    sandbox = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxops-hostile-'));
    home = path.join(sandbox, 'home');
    platform = await openPlatform({ home });
    const trained = await trainAndTrack(platform.tracking, platform.registry, {
      csvText: generateDiabetesCsv(2000, 1),
      dataSource: 'generated:diabetes',
      target: 'Diabetic',
      register: 'diabetes',
      aliases: ['production'],
    });
    features = trained.training.model.signature.inputs.map((i) => i.name);
    key = (await platform.keys.create('hostile', { role: 'admin' })).key;
    const revoked = await platform.keys.create('revoked');
    revokedKey = revoked.key;
    await platform.keys.revoke(revoked.info.keyId);
    runId = (await platform.tracking.createRun({ experimentId: '0', runName: 'hostile-target' })).info.runId;
    // A file the conflict cases try to use as a folder.
    await platform.tracking.logArtifact(runId, 'model/fluxops-model.json', '{}');
    app = await buildApp({ platform, model: 'diabetes@production', logger: createLogger({ level: 'silent' }), requestTimeoutMs: REQUEST_TIMEOUT_MS, auth: 'off' });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    port = typeof address === 'object' && address !== null ? address.port : 0;
    pool = new Pool(`http://127.0.0.1:${port}`, { connections: CONCURRENCY });
    validBody = JSON.stringify({ inputs: [Object.fromEntries(features.map((f, j) => [f, 10 + j]))] });
  }, 120_000);

  afterAll(async () => {
    await pool?.close();
    await app?.close();
    await platform?.close();
    if (sandbox) fs.rmSync(sandbox, { recursive: true, force: true });
  });

  it('answers every malformed request with a 4xx error body, never a 5xx or a hang, and keeps serving', async () => {
    const cases = buildCases(features, key, revokedKey, runId);
    expect(cases.length).toBeGreaterThanOrEqual(600);
    // The generation is deterministic: the same seed always yields the same requests.
    const again = buildCases(features, key, revokedKey, runId);
    expect(again.map(describeCase)).toEqual(cases.map(describeCase));

    const started = Date.now();
    const outcomes = await runAll(pool, port, cases);
    const byStatus = new Map<string, number>();
    for (const o of outcomes) byStatus.set(String(o.status ?? 'closed'), (byStatus.get(String(o.status ?? 'closed')) ?? 0) + 1);
    const families = new Set(cases.map((c) => c.family.replace(/ \(.*\)$/, '')));
    console.log(
      `hostile input: ${cases.length} requests in ${families.size} families, ${Date.now() - started} ms; by status: ${[...byStatus]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([s, n]) => `${s}=${n}`)
        .join(' ')}`,
    );

    const failures = outcomes.map((o) => ({ o, why: judge(o) })).filter((f) => f.why !== undefined);
    const report = failures
      .slice(0, 200)
      .map((f) => `${f.why}: ${describeCase(f.o.c).slice(0, 260)} -> ${f.o.body.slice(0, 200)}`)
      .join('\n');
    const fiveHundreds = outcomes.filter((o) => o.status !== undefined && o.status >= 500);
    expect(fiveHundreds.length, `5xx responses:\n${report}`).toBe(0);
    expect(failures.length, `${failures.length} bad outcomes:\n${report}`).toBe(0);

    // Nothing was written outside the run's artifact folder, nor anywhere else on the machine.
    const artifactRoot = path.join(home, 'artifacts');
    const runFolder = path.join(artifactRoot, '0', runId, 'artifacts');
    const planted = walk(sandbox).filter((f) => f.includes(MARKER) || f.includes('pwned'));
    expect(planted.filter((f) => !f.startsWith(runFolder + path.sep)), 'files planted outside the run folder').toEqual([]);
    const escaped = walk(sandbox).filter((f) => !f.startsWith(artifactRoot + path.sep) && !f.startsWith(path.join(home, 'fluxops.db')));
    expect(escaped, 'files outside the store').toEqual([]);
    for (const place of [os.tmpdir(), '/tmp', '/etc', path.dirname(sandbox), home, artifactRoot, path.join(artifactRoot, '0')]) {
      const hits = fs.readdirSync(place).filter((n) => n.includes(MARKER));
      expect(hits, `traversal reached ${place}`).toEqual([]);
    }
    // An aborted upload removes its temporary file once the server notices the abort; give it a moment.
    const leftovers = (): string[] => walk(artifactRoot).filter((f) => path.basename(f).startsWith('.tmp-'));
    for (let waited = 0; leftovers().length > 0 && waited < 3000; waited += 100) await new Promise((r) => setTimeout(r, 100));
    expect(leftovers(), 'temporary upload files left behind').toEqual([]);
    // The parser never let a __proto__ key through to this process's prototypes.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();

    // Still serving.
    const health = await pool.request({ method: 'GET', path: '/api/health' });
    expect(health.statusCode).toBe(200);
    expect(((await health.body.json()) as { status: string }).status).toBe('ok');
    const ok = await pool.request({ method: 'POST', path: '/api/predict', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: validBody });
    const okBody = (await ok.body.json()) as { predictions: unknown[]; probabilities: number[][] };
    expect(ok.statusCode).toBe(200);
    expect(okBody.predictions).toHaveLength(1);
    expect(okBody.probabilities[0]!.every((p) => Number.isFinite(p) && p >= 0 && p <= 1)).toBe(true);
    const run = await pool.request({ method: 'GET', path: `/api/v1/runs/${runId}` });
    expect(run.statusCode).toBe(200);
    await run.body.dump();
  }, 300_000);
});
