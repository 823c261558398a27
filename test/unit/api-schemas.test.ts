import type { Static } from '@sinclair/typebox';
import { describe, expectTypeOf, it } from 'vitest';
import type * as S from '../../src/api/schemas.js';
import type { ApiKeyInfo, AuditEntry } from '../../src/auth/index.js';
import type { Lineage, ModelVersion, RegisteredModel } from '../../src/registry/index.js';
import type { PredictResult } from '../../src/serving/index.js';
import type { ArtifactEntry } from '../../src/storage/artifacts/index.js';
import type { DatasetInput, Experiment, Metric, Page, Run, RunInfo } from '../../src/tracking/index.js';

/*
 * Fastify serialises responses with their schema and drops what the schema does not name, so each
 * response schema must describe its domain type exactly. These are compile-time checks (the test
 * files are type-checked by `npm test`): a field added to a domain type without its schema fails here.
 */
/** An intersection as one object type, as TypeBox's Composite builds it. */
type Flat<T> = { [K in keyof T]: T[K] };

describe('response schemas match the domain types', () => {
  it('tracking', () => {
    expectTypeOf<Static<typeof S.Experiment>>().toEqualTypeOf<Experiment>();
    expectTypeOf<Static<typeof S.Metric>>().toEqualTypeOf<Metric>();
    expectTypeOf<Static<typeof S.DatasetInput>>().toEqualTypeOf<DatasetInput>();
    expectTypeOf<Static<typeof S.RunInfo>>().toEqualTypeOf<RunInfo>();
    expectTypeOf<Static<typeof S.Run>>().toEqualTypeOf<Run>();
    expectTypeOf<Static<ReturnType<typeof S.Page<typeof S.Run>>>>().toEqualTypeOf<Page<Run>>();
    expectTypeOf<Static<typeof S.ArtifactEntry>>().toEqualTypeOf<ArtifactEntry>();
  });
  it('registry', () => {
    expectTypeOf<Static<typeof S.ModelVersion>>().toEqualTypeOf<ModelVersion>();
    expectTypeOf<Static<typeof S.RegisteredModel>>().toEqualTypeOf<RegisteredModel>();
    expectTypeOf<Static<typeof S.Lineage>>().toEqualTypeOf<Lineage>();
  });
  it('keys and audit', () => {
    expectTypeOf<Static<typeof S.ApiKeyInfo>>().toEqualTypeOf<ApiKeyInfo>();
    expectTypeOf<Static<typeof S.CreatedKey>>().toEqualTypeOf<Flat<ApiKeyInfo & { key: string }>>();
    expectTypeOf<Static<typeof S.AuditEntry>>().toEqualTypeOf<AuditEntry>();
  });
  it('serving', () => {
    expectTypeOf<Static<typeof S.Prediction>>().toEqualTypeOf<Flat<PredictResult & { request_id: string; endpoint?: string; deployment?: string }>>();
  });
});
