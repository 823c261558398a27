import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { FluxError } from '../../src/core/index.js';
import { formatParamSpec, inSpec, parseSearchSpace, specSize } from '../../src/pipelines/sweep/index.js';

/** The FluxError a parse throws, so both its sentence and its field can be checked. */
function refusal(raw: unknown): FluxError {
  try {
    parseSearchSpace(raw);
  } catch (e) {
    if (e instanceof FluxError) return e;
    throw e;
  }
  throw new Error(`${JSON.stringify(raw)} was accepted`);
}

describe('parseSearchSpace', () => {
  it('reads the object form from YAML, keeping declaration order', () => {
    const space = parseSearchSpace(
      parseYaml(`
solver: { type: choice, values: [liblinear, saga] }
C: { type: loguniform, min: 0.001, max: 100 }
tol: { type: uniform, min: 0, max: 0.5 }
width: { type: quniform, min: 16, max: 256, q: 16 }
layers: { type: randint, min: 1, max: 5 }
fit_intercept: { type: choice, values: [true, false] }
`),
    );
    expect(Object.keys(space)).toEqual(['solver', 'C', 'tol', 'width', 'layers', 'fit_intercept']);
    expect(space).toEqual({
      solver: { type: 'choice', values: ['liblinear', 'saga'] },
      C: { type: 'loguniform', min: 0.001, max: 100 },
      tol: { type: 'uniform', min: 0, max: 0.5 },
      width: { type: 'quniform', min: 16, max: 256, q: 16 },
      layers: { type: 'randint', min: 1, max: 5 },
      fit_intercept: { type: 'choice', values: [true, false] },
    });
  });

  it('reads the compact form', () => {
    const space = parseSearchSpace({
      C: 'choice(0.01, 0.1, 1)',
      solver: "choice(liblinear, 'saga', \"l-bfgs, b\")",
      flags: "choice(true, 'false', -1e-3)",
      tol: 'uniform(0, 1)',
      lr: ' loguniform ( 1e-4 , 1 ) ',
      width: 'quniform(0, 10, 2)',
      n: 'randint(1, 10)',
      Kind: 'CHOICE(a)',
    });
    expect(space).toEqual({
      C: { type: 'choice', values: [0.01, 0.1, 1] },
      solver: { type: 'choice', values: ['liblinear', 'saga', 'l-bfgs, b'] },
      flags: { type: 'choice', values: [true, 'false', -0.001] },
      tol: { type: 'uniform', min: 0, max: 1 },
      lr: { type: 'loguniform', min: 1e-4, max: 1 },
      width: { type: 'quniform', min: 0, max: 10, q: 2 },
      n: { type: 'randint', min: 1, max: 10 },
      Kind: { type: 'choice', values: ['a'] },
    });
  });

  it('prints the compact form back as it reads it', () => {
    const raw = { a: "choice(0.5, x, '1', 'true', 'two words', true)", b: 'uniform(-1, 1)', c: 'loguniform(0.0001, 1)', d: 'quniform(0, 1, 0.1)', e: 'randint(0, 3)' };
    const space = parseSearchSpace(raw);
    const printed = Object.fromEntries(Object.entries(space).map(([k, v]) => [k, formatParamSpec(v)]));
    expect(printed.a).toBe("choice(0.5, x, '1', 'true', 'two words', true)");
    expect(parseSearchSpace(printed)).toEqual(space);
  });

  it('knows which values each parameter can take', () => {
    const s = parseSearchSpace({ c: 'choice(1, a)', u: 'uniform(0, 1)', l: 'loguniform(0.1, 10)', q: 'quniform(0, 1, 0.1)', r: 'randint(1, 4)' });
    expect(inSpec(s.c!, 1)).toBe(true);
    expect(inSpec(s.c!, '1')).toBe(false);
    expect(inSpec(s.u!, 1)).toBe(true);
    expect(inSpec(s.u!, 1.01)).toBe(false);
    expect(inSpec(s.l!, 0.05)).toBe(false);
    expect(inSpec(s.q!, 0.3)).toBe(true);
    expect(inSpec(s.q!, 0.35)).toBe(false);
    expect(inSpec(s.r!, 3)).toBe(true);
    expect(inSpec(s.r!, 4)).toBe(false);
    expect(inSpec(s.r!, 2.5)).toBe(false);
    expect([s.c!, s.u!, s.q!, s.r!].map(specSize)).toEqual([2, Infinity, 11, 3]);
    // round(x / q) · q over (1, 9) with q = 2 gives 2, 4, 6, 8: the end points alone would round to 0 and 10.
    expect(specSize(parseSearchSpace({ q: 'quniform(1, 9, 2)' }).q!)).toBe(4);
  });

  const refusals: Array<[string, unknown, string, string]> = [
    ['a list', [1, 2], 'search_space must be a mapping of parameter names to distributions such as choice(0.1, 1) or { type: uniform, min: 0, max: 1 }.', 'search_space'],
    ['nothing', null, 'search_space must be a mapping', 'search_space'],
    ['an empty mapping', {}, 'search_space must define at least one parameter.', 'search_space'],
    ['an empty name', { ' ': 'uniform(0, 1)' }, 'search_space has a parameter with an empty name.', 'search_space'],
    ['a number as a parameter', { C: 3 }, 'search_space.C must be a distribution such as choice(0.1, 1) or { type: uniform, min: 0, max: 1 }; got 3.', 'search_space.C'],
    ['an unknown type', { C: { type: 'normal', min: 0, max: 1 } }, 'search_space.C.type must be one of choice, uniform, loguniform, quniform, randint; got "normal".', 'search_space.C.type'],
    ['no type', { C: { values: [1] } }, 'search_space.C.type must be one of choice, uniform, loguniform, quniform, randint; got nothing.', 'search_space.C.type'],
    ['an unknown key', { lr: { type: 'uniform', min_value: 0, max_value: 1 } }, "search_space.lr has an unknown key 'min_value' (a uniform parameter takes min, max).", 'search_space.lr.min_value'],
    ['no values', { C: { type: 'choice' } }, 'search_space.C.values must be a non-empty list.', 'search_space.C.values'],
    ['empty values', { C: { type: 'choice', values: [] } }, 'search_space.C.values must be a non-empty list.', 'search_space.C.values'],
    ['a value that is not a scalar', { C: { type: 'choice', values: [1, [2]] } }, 'search_space.C.values[1] must be a finite number, a string or a boolean; got [2].', 'search_space.C.values[1]'],
    ['a value that is not finite', { C: { type: 'choice', values: [1, Infinity] } }, 'search_space.C.values[1] must be a finite number, a string or a boolean; got Infinity.', 'search_space.C.values[1]'],
    ['a repeated value', { C: { type: 'choice', values: [0.1, 1, 0.1] } }, 'search_space.C.values lists 0.1 more than once.', 'search_space.C.values'],
    ['a missing bound', { tol: { type: 'uniform', min: 0 } }, 'search_space.tol.max must be a finite number; got nothing.', 'search_space.tol.max'],
    ['a bound given as text', { tol: { type: 'uniform', min: '0', max: 1 } }, 'search_space.tol.min must be a finite number; got "0".', 'search_space.tol.min'],
    ['bounds in the wrong order', { tol: { type: 'uniform', min: 1, max: 1 } }, 'search_space.tol.max must be greater than min (1); got 1.', 'search_space.tol.max'],
    ['loguniform from 0', { lr: { type: 'loguniform', min: 0, max: 1 } }, 'search_space.lr.min must be greater than 0 for loguniform (its bounds are the values themselves, not exponents); got 0.', 'search_space.lr.min'],
    ['loguniform with exponents', { lr: 'loguniform(-4, 0)' }, 'search_space.lr.min must be greater than 0 for loguniform', 'search_space.lr.min'],
    ['quniform without q', { w: { type: 'quniform', min: 0, max: 10 } }, 'search_space.w.q must be a finite number; got nothing.', 'search_space.w.q'],
    ['quniform with q of 0', { w: 'quniform(0, 10, 0)' }, 'search_space.w.q must be greater than 0; got 0.', 'search_space.w.q'],
    ['randint with a fraction', { n: { type: 'randint', min: 1.5, max: 4 } }, 'search_space.n.min must be an integer for randint; got 1.5.', 'search_space.n.min'],
    ['randint with an empty range', { n: 'randint(3, 3)' }, 'search_space.n.max must be greater than min (3); got 3.', 'search_space.n.max'],
    ['an unknown function', { n: 'normal(0, 1)' }, "search_space.n must be a distribution such as choice(0.1, 1), uniform(0, 1), loguniform(1e-4, 1), quniform(0, 10, 2) or randint(1, 10); got 'normal(0, 1)'.", 'search_space.n'],
    ['text that is no function', { n: '0.1, 1' }, "search_space.n must be a distribution such as choice(0.1, 1)", 'search_space.n'],
    ['too few arguments', { n: 'randint(10)' }, "search_space.n: randint takes 2 arguments (min, max); got 1 in 'randint(10)'.", 'search_space.n'],
    ['too many arguments', { n: 'uniform(0, 1, 2)' }, "search_space.n: uniform takes 2 arguments (min, max); got 3 in 'uniform(0, 1, 2)'.", 'search_space.n'],
    ['a word as a bound', { n: 'uniform(0, one)' }, 'search_space.n.max must be a finite number; got "one".', 'search_space.n.max'],
    ['an empty choice', { n: 'choice()' }, 'search_space.n.values must be a non-empty list.', 'search_space.n.values'],
    ['an empty argument', { n: 'choice(1,,2)' }, "search_space.n: argument 2 of 'choice(1,,2)' is empty.", 'search_space.n'],
    ['an unterminated quote', { n: "choice('a, b)" }, "search_space.n has an unterminated ' quote in 'choice('a, b)'.", 'search_space.n'],
    ['two words without a comma', { n: 'choice(l1 l2)' }, "search_space.n: argument 1 of 'choice(l1 l2)' (l1 l2) must be a number, a bare word or a quoted string.", 'search_space.n'],
    ['a repeated compact value', { n: 'choice(1, 1.0)' }, 'search_space.n.values lists 1 more than once.', 'search_space.n.values'],
  ];

  for (const [what, raw, message, field] of refusals) {
    it(`refuses ${what}`, () => {
      const e = refusal(raw);
      expect(e.code).toBe('INVALID_PARAMETER_VALUE');
      expect(e.message.slice(0, message.length)).toBe(message);
      expect(e.message.endsWith('.')).toBe(true);
      expect(e.details).toEqual({ field });
    });
  }

  it('names the field it was given', () => {
    expect(() => parseSearchSpace({ C: 'choice()' }, 'sweep.space')).toThrow('sweep.space.C.values must be a non-empty list.');
  });
});
