import { describe, expect, it } from 'vitest';
import { FluxError } from '../../src/core/index.js';
import { parseFilter, parseOrderBy, type FilterClause } from '../../src/search/index.js';

describe('parseFilter: valid filters', () => {
  it('reads nothing from an empty or blank filter', () => {
    expect(parseFilter(undefined)).toEqual([]);
    expect(parseFilter(null)).toEqual([]);
    expect(parseFilter('   ')).toEqual([]);
  });

  it('reads clauses joined by AND, in any case', () => {
    expect(parseFilter("metrics.f1 > 0.6 and params.solver = 'lbfgs' AND tags.team != 'audio'")).toEqual([
      { entity: 'metric', key: 'f1', comparator: '>', value: 0.6 },
      { entity: 'param', key: 'solver', comparator: '=', value: 'lbfgs' },
      { entity: 'tag', key: 'team', comparator: '!=', value: 'audio' },
    ]);
  });

  it.each<[string, FilterClause]>([
    ['metrics.f1>0.5', { entity: 'metric', key: 'f1', comparator: '>', value: 0.5 }],
    ['metrics.f1 >= 0.5', { entity: 'metric', key: 'f1', comparator: '>=', value: 0.5 }],
    ['metrics.f1 < 0.5', { entity: 'metric', key: 'f1', comparator: '<', value: 0.5 }],
    ['metrics.f1 <= 0.5', { entity: 'metric', key: 'f1', comparator: '<=', value: 0.5 }],
    ['metrics.f1 == 0.5', { entity: 'metric', key: 'f1', comparator: '=', value: 0.5 }],
    ['metrics.f1 != 0.5', { entity: 'metric', key: 'f1', comparator: '!=', value: 0.5 }],
    ["params.solver like 'lb%'", { entity: 'param', key: 'solver', comparator: 'LIKE', value: 'lb%' }],
    ["params.solver ILIKE 'LB%'", { entity: 'param', key: 'solver', comparator: 'ILIKE', value: 'LB%' }],
  ])('reads the comparator in %s', (filter, clause) => {
    expect(parseFilter(filter)).toEqual([clause]);
  });

  it.each<[string, string, FilterClause['entity']]>([
    ['metric.loss < 1', 'loss', 'metric'],
    ["param.lr = '0.1'", 'lr', 'param'],
    ["parameters.lr = '0.1'", 'lr', 'param'],
    ["tag.team = 'x'", 'team', 'tag'],
    ["attr.status = 'FINISHED'", 'status', 'attribute'],
    ["run.run_name = 'x'", 'run_name', 'attribute'],
    ["Attributes.run_id = 'abc'", 'run_id', 'attribute'],
  ])('accepts the entity spelling in %s', (filter, key, entity) => {
    expect(parseFilter(filter)[0]).toMatchObject({ entity, key });
  });

  it('reads backticked, double-quoted and dotted keys', () => {
    expect(parseFilter('metrics.`val loss` < 1')[0]).toMatchObject({ entity: 'metric', key: 'val loss' });
    expect(parseFilter('metrics."val loss" < 1')[0]).toMatchObject({ entity: 'metric', key: 'val loss' });
    expect(parseFilter("params.`model.type` = 'lr'")[0]).toMatchObject({ entity: 'param', key: 'model.type' });
    expect(parseFilter('metrics.val.loss <= 2')[0]).toMatchObject({ entity: 'metric', key: 'val.loss', value: 2 });
    expect(parseFilter('metrics.eval.val.loss <= 2')[0]).toMatchObject({ key: 'eval.val.loss' });
    expect(parseFilter("tags.mlflow.runName = 'x'")[0]).toMatchObject({ entity: 'tag', key: 'mlflow.runName' });
    expect(parseFilter('metrics.1st_loss > 0')[0]).toMatchObject({ key: '1st_loss' });
    expect(parseFilter('metrics.train/loss > 0')[0]).toMatchObject({ key: 'train/loss' });
    expect(parseFilter('metrics.val-loss > 0')[0]).toMatchObject({ key: 'val-loss' });
  });

  it('reads single- and double-quoted strings, with escapes and spaces', () => {
    expect(parseFilter('params.solver = "lbfgs"')[0]?.value).toBe('lbfgs');
    expect(parseFilter("tags.note = 'it\\'s fine'")[0]?.value).toBe("it's fine");
    expect(parseFilter("tags.note = 'a AND b'")[0]?.value).toBe('a AND b');
    expect(parseFilter("tags.note = ''")[0]?.value).toBe('');
  });

  it.each<[string, number]>([
    ['1', 1],
    ['-1', -1],
    ['0.25', 0.25],
    ['-0.25', -0.25],
    ['.5', 0.5],
    ['1e3', 1000],
    ['1E-3', 0.001],
    ['-2.5e+2', -250],
    ['12.', 12],
  ])('reads the number %s', (text, value) => {
    expect(parseFilter(`metrics.m > ${text}`)[0]?.value).toBe(value);
  });

  it('reads IN and NOT IN lists', () => {
    expect(parseFilter("params.solver IN ('lbfgs', 'sag')")[0]).toEqual({ entity: 'param', key: 'solver', comparator: 'IN', value: ['lbfgs', 'sag'] });
    expect(parseFilter('params.solver not in ("a")')[0]).toEqual({ entity: 'param', key: 'solver', comparator: 'NOT IN', value: ['a'] });
    expect(parseFilter("attributes.status IN ('FINISHED','FAILED') and tags.x in ('y')")).toHaveLength(2);
  });

  it('compares numeric attributes with numbers and string attributes with strings', () => {
    expect(parseFilter('attributes.start_time >= 1700000000000')[0]).toMatchObject({ entity: 'attribute', key: 'start_time', value: 1_700_000_000_000 });
    expect(parseFilter('attributes.end_time < 5')[0]).toMatchObject({ key: 'end_time' });
    expect(parseFilter("attributes.run_name LIKE 'a%'")[0]).toMatchObject({ key: 'run_name', comparator: 'LIKE' });
  });
});

describe('parseFilter: clear errors', () => {
  it.each<[string, RegExp]>([
    ["metrics.f1 > 0.5 OR params.solver = 'lbfgs'", /expected AND between clauses, found 'OR' \(OR is not supported\)/],
    ['f1 > 0.5', /'f1' needs an entity prefix, for example metrics\.f1/],
    ["foo.bar = 'x'", /unknown entity 'foo'/],
    ["attributes.nope = 'x'", /unknown attribute 'nope'; known attributes: run_id/],
    ["metrics.f1 LIKE '0.5%'", /LIKE cannot be used with metrics\.f1, which is numeric/],
    ["metrics.f1 ILIKE '0.5%'", /ILIKE cannot be used with metrics\.f1/],
    ['metrics.f1 IN (1, 2)', /IN cannot be used with metrics\.f1/],
    ["metrics.f1 > '0.5'", /metrics\.f1 must be compared with a number/],
    ["attributes.start_time > 'yesterday'", /attributes\.start_time must be compared with a number/],
    ['params.solver = 1', /params\.solver must be compared with a quoted string/],
    ["params.solver IN ('a', 1)", /must be compared with a quoted string/],
    ["attributes.status < 'RUNNING'", /< cannot be used with attributes\.status/],
    ["params.solver = 'lbfgs", /unterminated quote starting at position 16/],
    ['metrics.`val loss < 1', /unterminated quote/],
    ['params.solver =', /expected a quoted value or a number, found end of filter/],
    ["params.solver 'lbfgs'", /expected a comparator/],
    ["params.solver NOT 'x'", /expected IN after NOT/],
    ["params.solver IN 'x'", /expected '\(' after IN/],
    ["params.solver IN ('a' 'b')", /expected ',' or '\)' in the IN list/],
    ["params.solver IN ('a',", /expected a value in the IN list, found end of filter/],
    ["params.solver = 'a' and", /expected a field such as metrics\.f1, found end of filter/],
    ["params.solver = 'a' params.x = 'b'", /expected AND between clauses/],
    ['metrics. > 1', /expected a key after 'metrics\.'/],
    ["params.a = 'x' ; drop table runs", /unexpected character ';'/],
  ])('refuses %s', (filter, message) => {
    let error: unknown;
    try {
      parseFilter(filter);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FluxError);
    expect((error as FluxError).code).toBe('INVALID_PARAMETER_VALUE');
    expect((error as FluxError).message).toMatch(/^invalid filter: /);
    expect((error as FluxError).message).toMatch(message);
  });

  it('refuses a filter longer than 10000 characters', () => {
    expect(() => parseFilter(`tags.x = '${'a'.repeat(10_000)}'`)).toThrow(/longer than 10000/);
  });
});

describe('parseOrderBy', () => {
  it('reads fields with an optional direction', () => {
    expect(parseOrderBy(undefined)).toEqual([]);
    expect(parseOrderBy(['', '  '])).toEqual([]);
    expect(parseOrderBy('metrics.f1 DESC')).toEqual([{ entity: 'metric', key: 'f1', ascending: false }]);
    expect(parseOrderBy(['params.solver', 'attributes.start_time asc', 'metrics.`val loss` desc', 'tags.team'])).toEqual([
      { entity: 'param', key: 'solver', ascending: true },
      { entity: 'attribute', key: 'start_time', ascending: true },
      { entity: 'metric', key: 'val loss', ascending: false },
      { entity: 'tag', key: 'team', ascending: true },
    ]);
    expect(parseOrderBy('metrics.val.loss desc')).toEqual([{ entity: 'metric', key: 'val.loss', ascending: false }]);
  });

  it.each<[string, RegExp]>([
    ['metrics.f1 sideways', /invalid order_by 'metrics\.f1 sideways': expected ASC or DESC/],
    ['metrics.f1 desc nulls', /unexpected text after the direction/],
    ['f1 desc', /needs an entity prefix/],
    ['attributes.nope', /unknown attribute 'nope'/],
  ])('refuses %s', (orderBy, message) => {
    expect(() => parseOrderBy(orderBy)).toThrow(message);
    try {
      parseOrderBy(orderBy);
    } catch (e) {
      expect((e as FluxError).code).toBe('INVALID_PARAMETER_VALUE');
    }
  });
});
