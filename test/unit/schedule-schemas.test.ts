import type { Static } from '@sinclair/typebox';
import { describe, expectTypeOf, it } from 'vitest';
import type * as S from '../../src/api/schemas.js';
import type { Firing, Schedule } from '../../src/schedules/index.js';

/* Fastify drops what a response schema does not name: the schedule schemas must equal the domain types (checked when the tests are type-checked). */
describe('schedule response schemas match the domain types', () => {
  it('schedules and firings', () => {
    expectTypeOf<Static<typeof S.Schedule>>().toEqualTypeOf<Schedule>();
    expectTypeOf<Static<typeof S.Firing>>().toEqualTypeOf<Firing>();
  });
});
