import { describe, expect, it } from 'vitest';
import { FluxError } from '../../src/core/index.js';
import { parseEarlyTermination, shouldTerminate, type EarlyTerminationPolicy, type TrialRecord } from '../../src/pipelines/sweep/index.js';

/** A trial that reported `values` at steps 1, 2, 3 … */
function trial(number: number, values: number[], status: TrialRecord['status'] = 'running'): TrialRecord {
  return { number, params: {}, status, value: null, intermediate: values.map((value, i) => ({ step: i + 1, value })) };
}

function refusal(raw: unknown): FluxError {
  try {
    parseEarlyTermination(raw);
  } catch (e) {
    if (e instanceof FluxError) return e;
    throw e;
  }
  throw new Error(`${JSON.stringify(raw)} was accepted`);
}

describe('parseEarlyTermination', () => {
  it('reads each policy with its defaults', () => {
    expect(parseEarlyTermination({ policy: 'median-stopping' })).toEqual({ policy: 'median-stopping', evaluationInterval: 1, delayEvaluation: 0 });
    expect(parseEarlyTermination({ policy: 'truncation-selection', truncation_percentage: 20, evaluation_interval: 2, delay_evaluation: 5 })).toEqual({
      policy: 'truncation-selection',
      evaluationInterval: 2,
      delayEvaluation: 5,
      truncationPercentage: 20,
    });
    expect(parseEarlyTermination({ policy: 'bandit', slack_factor: 0.1 })).toEqual({ policy: 'bandit', evaluationInterval: 1, delayEvaluation: 0, slack: { kind: 'factor', value: 0.1 } });
    expect(parseEarlyTermination({ policy: 'bandit', slack_amount: 0.2 })).toEqual({ policy: 'bandit', evaluationInterval: 1, delayEvaluation: 0, slack: { kind: 'amount', value: 0.2 } });
  });

  it("accepts Azure ML's spelling: type for policy, underscores in the name", () => {
    expect(parseEarlyTermination({ type: 'median_stopping', delay_evaluation: 5 }).policy).toBe('median-stopping');
    expect(parseEarlyTermination({ type: 'Truncation_Selection', truncation_percentage: 10 }).policy).toBe('truncation-selection');
  });

  const refusals: Array<[string, unknown, string, string]> = [
    ['a string', 'bandit', 'early_termination must be a mapping such as { policy: median-stopping, evaluation_interval: 1, delay_evaluation: 5 }.', 'early_termination'],
    ['no policy', { evaluation_interval: 1 }, 'early_termination.policy must be one of median-stopping, truncation-selection, bandit; got nothing.', 'early_termination.policy'],
    ['an unknown policy', { policy: 'hyperband' }, 'early_termination.policy must be one of median-stopping, truncation-selection, bandit; got "hyperband".', 'early_termination.policy'],
    ['both policy and type', { policy: 'bandit', type: 'bandit', slack_factor: 0.1 }, 'early_termination gives both policy and type; give one.', 'early_termination.policy'],
    ['an unknown key', { policy: 'median-stopping', patience: 3 }, "early_termination has an unknown key 'patience'.", 'early_termination.patience'],
    ["another policy's key", { policy: 'median-stopping', slack_factor: 0.1 }, 'early_termination.slack_factor applies to the bandit policy only, not median-stopping.', 'early_termination.slack_factor'],
    ['an interval of 0', { policy: 'median-stopping', evaluation_interval: 0 }, 'early_termination.evaluation_interval must be an integer of at least 1; got 0.', 'early_termination.evaluation_interval'],
    ['a fractional delay', { policy: 'median-stopping', delay_evaluation: 1.5 }, 'early_termination.delay_evaluation must be an integer of at least 0; got 1.5.', 'early_termination.delay_evaluation'],
    ['a negative delay', { policy: 'median-stopping', delay_evaluation: -1 }, 'early_termination.delay_evaluation must be an integer of at least 0; got -1.', 'early_termination.delay_evaluation'],
    ['a delay given as text', { policy: 'median-stopping', delay_evaluation: '5' }, 'early_termination.delay_evaluation must be an integer of at least 0; got "5".', 'early_termination.delay_evaluation'],
    ['truncation without a percentage', { policy: 'truncation-selection' }, 'early_termination.truncation_percentage must be an integer from 1 to 99; got nothing.', 'early_termination.truncation_percentage'],
    ['truncation of 100 %', { policy: 'truncation-selection', truncation_percentage: 100 }, 'early_termination.truncation_percentage must be an integer from 1 to 99; got 100.', 'early_termination.truncation_percentage'],
    ['truncation of 0 %', { policy: 'truncation-selection', truncation_percentage: 0 }, 'early_termination.truncation_percentage must be an integer from 1 to 99; got 0.', 'early_termination.truncation_percentage'],
    ['a fractional percentage', { policy: 'truncation-selection', truncation_percentage: 12.5 }, 'early_termination.truncation_percentage must be an integer from 1 to 99; got 12.5.', 'early_termination.truncation_percentage'],
    ['bandit without slack', { policy: 'bandit' }, 'early_termination must give exactly one of slack_factor and slack_amount for the bandit policy.', 'early_termination.slack_factor'],
    ['bandit with both slacks', { policy: 'bandit', slack_factor: 0.1, slack_amount: 0.1 }, 'early_termination must give exactly one of slack_factor and slack_amount for the bandit policy.', 'early_termination.slack_factor'],
    ['a negative slack', { policy: 'bandit', slack_amount: -0.1 }, 'early_termination.slack_amount must be a non-negative number; got -0.1.', 'early_termination.slack_amount'],
    ['a slack given as text', { policy: 'bandit', slack_factor: '10%' }, 'early_termination.slack_factor must be a non-negative number; got "10%".', 'early_termination.slack_factor'],
  ];

  for (const [what, raw, message, field] of refusals) {
    it(`refuses ${what}`, () => {
      const e = refusal(raw);
      expect(e.code).toBe('INVALID_PARAMETER_VALUE');
      expect(e.message).toBe(message);
      expect(e.details).toEqual({ field });
    });
  }

  it('names the field it was given', () => {
    expect(() => parseEarlyTermination({ policy: 'x' }, 'sweep.early_termination')).toThrow('sweep.early_termination.policy must be one of');
  });
});

describe('shouldTerminate', () => {
  const median = parseEarlyTermination({ policy: 'median-stopping' });
  // Running averages at step 3: 0.6, 0.7 and 0.3, so the median is 0.6. Trial 4 has not reached step 3.
  const others = [trial(1, [0.5, 0.6, 0.7], 'completed'), trial(2, [0.6, 0.7, 0.8, 0.9]), trial(3, [0.2, 0.3, 0.4], 'pruned'), trial(4, [0.99, 0.99])];

  describe('median stopping', () => {
    it('stops a trial whose best so far is worse than the median of the running averages', () => {
      const t = trial(9, [0.3, 0.5, 0.55]);
      expect(shouldTerminate(median, t, [...others, t], 'maximize')).toEqual({
        stop: true,
        reason: "Trial 9's best value up to step 3, 0.55, is worse than 0.6, the median of the running averages of the 3 other trials that reached it.",
      });
    });

    it('keeps a trial whose best so far, at any earlier step, beats the median', () => {
      const t = trial(9, [0.1, 0.65, 0.2]);
      const d = shouldTerminate(median, t, [...others, t], 'maximize');
      expect(d.stop).toBe(false);
      expect(d.reason).toBe("Trial 9's best value up to step 3, 0.65, is not worse than 0.6, the median of the running averages of the 3 other trials that reached it.");
    });

    it('reads worse the other way round when minimising', () => {
      expect(shouldTerminate(median, trial(9, [0.3, 0.5, 0.55]), others, 'minimize').stop).toBe(false);
      expect(shouldTerminate(median, trial(9, [0.9, 0.8, 0.7]), others, 'minimize').stop).toBe(true);
    });

    it('averages the others only up to the step being evaluated', () => {
      // At step 2 the averages are 0.55, 0.65, 0.25 and 0.99: the median is 0.6.
      expect(shouldTerminate(median, trial(9, [0.1, 0.59]), others, 'maximize')).toMatchObject({ stop: true, reason: expect.stringContaining('0.6, the median of the running averages of the 4 other trials') as unknown });
      expect(shouldTerminate(median, trial(9, [0.1, 0.61]), others, 'maximize').stop).toBe(false);
    });

    it('keeps a trial nobody else has got as far as', () => {
      expect(shouldTerminate(median, trial(9, [0, 0, 0, 0, 0]), others, 'maximize')).toEqual({ stop: false, reason: 'No other trial has reached step 5 yet.' });
    });
  });

  describe('the schedule', () => {
    it('evaluates only after delay_evaluation and at multiples of evaluation_interval', () => {
      const delayed = parseEarlyTermination({ policy: 'median-stopping', delay_evaluation: 3 });
      expect(shouldTerminate(delayed, trial(9, [0, 0, 0]), others, 'maximize')).toEqual({ stop: false, reason: 'Step 3 is not an evaluation step (every step after step 3).' });
      expect(shouldTerminate(delayed, trial(9, [0, 0, 0, 0]), others, 'maximize').stop).toBe(true);
      const everyOther = parseEarlyTermination({ policy: 'median-stopping', evaluation_interval: 2 });
      expect(shouldTerminate(everyOther, trial(9, [0, 0, 0]), others, 'maximize')).toEqual({ stop: false, reason: 'Step 3 is not an evaluation step (every 2 steps after step 0).' });
      expect(shouldTerminate(everyOther, trial(9, [0, 0]), others, 'maximize').stop).toBe(true);
    });

    it('keeps a trial that has reported nothing, and stops one that reported NaN', () => {
      expect(shouldTerminate(median, trial(9, []), others, 'maximize')).toEqual({ stop: false, reason: 'Trial 9 has reported no intermediate value yet.' });
      expect(shouldTerminate(median, trial(9, [0.9, Number.NaN]), others, 'maximize')).toEqual({ stop: true, reason: 'Trial 9 reported NaN at step 2.' });
    });
  });

  describe('truncation selection', () => {
    const policy = (p: number): EarlyTerminationPolicy => parseEarlyTermination({ policy: 'truncation-selection', truncation_percentage: p });
    // Values at step 2: 0.5, 0.6, 0.7, 0.8; with the trial evaluated, 5 trials.
    const field = [trial(1, [0.4, 0.5]), trial(2, [0.5, 0.6], 'completed'), trial(3, [0.6, 0.7]), trial(4, [0.7, 0.8, 0.9])];

    it('stops a trial in the lowest percentage at the step', () => {
      expect(shouldTerminate(policy(20), trial(9, [0.1, 0.4]), field, 'maximize')).toEqual({
        stop: true,
        reason: "Trial 9's value at step 2, 0.4, is in the lowest 20 % of the 5 trials there (the worst 1 stop; 0 did no better).",
      });
      expect(shouldTerminate(policy(20), trial(9, [0.9, 0.55]), field, 'maximize')).toEqual({
        stop: false,
        reason: "Trial 9's value at step 2, 0.55, is not in the lowest 20 % of the 5 trials there (the worst 1 stop; 1 did no better).",
      });
      expect(shouldTerminate(policy(40), trial(9, [0.9, 0.55]), field, 'maximize').stop).toBe(true);
    });

    it('ranks the other way round when minimising', () => {
      expect(shouldTerminate(policy(20), trial(9, [0.1, 0.4]), field, 'minimize').stop).toBe(false);
      expect(shouldTerminate(policy(20), trial(9, [0.1, 0.85]), field, 'minimize').stop).toBe(true);
    });

    it('never stops more than the percentage, and gives ties the benefit of the doubt', () => {
      // Of 3 trials, 20 % is 0.6 of a trial: nobody stops.
      expect(shouldTerminate(policy(20), trial(9, [0, 0]), field.slice(0, 2), 'maximize').stop).toBe(false);
      expect(shouldTerminate(policy(50), trial(9, [0, 0]), field.slice(0, 2), 'maximize').stop).toBe(true);
      expect(shouldTerminate(policy(50), trial(9, [0, 0.5]), [...field.slice(0, 2), trial(5, [0, 0.5])], 'maximize').stop).toBe(false);
    });

    it('takes the last value before the step of a trial that skipped it', () => {
      // Trial 5 reported at steps 1 and 4 only: at step 2 it counts with 0.95.
      const skipper: TrialRecord = { number: 5, params: {}, status: 'failed', value: null, intermediate: [{ step: 1, value: 0.95 }, { step: 4, value: 0.1 }] };
      expect(shouldTerminate(policy(50), trial(9, [0, 0.75]), [...field.slice(2), skipper], 'maximize')).toMatchObject({ stop: true, reason: expect.stringContaining('of the 4 trials there (the worst 2 stop; 1 did no better)') as unknown });
    });

    it('needs at least 2 other trials at the step', () => {
      expect(shouldTerminate(policy(50), trial(9, [0, 0]), [field[0]!, trial(5, [0.9])], 'maximize')).toEqual({
        stop: false,
        reason: 'Truncation selection needs at least 2 other trials at step 2; 1 reached it.',
      });
    });
  });

  describe('bandit', () => {
    const factor = parseEarlyTermination({ policy: 'bandit', slack_factor: 0.1 });
    const amount = parseEarlyTermination({ policy: 'bandit', slack_amount: 0.2 });
    const field = [trial(1, [0.5, 0.8], 'completed'), trial(2, [0.5, 0.6]), trial(3, [0.99])];

    it("stops a trial below the best value at the step divided by 1 + slack_factor (Azure's example: 0.8 and 0.1 give 0.727)", () => {
      expect(shouldTerminate(factor, trial(9, [0.9, 0.7]), field, 'maximize')).toEqual({
        stop: true,
        reason: "Trial 9's value at step 2, 0.7, is below 0.727273, the best value there (0.8) divided by 1 + slack_factor 0.1.",
      });
      expect(shouldTerminate(factor, trial(9, [0.9, 0.75]), field, 'maximize').stop).toBe(false);
    });

    it('stops a trial above the best value times 1 + slack_factor when minimising', () => {
      // The best (lowest) value at step 2 is 0.6, so the bound is 0.66.
      expect(shouldTerminate(factor, trial(9, [0.1, 0.67]), field, 'minimize')).toEqual({
        stop: true,
        reason: "Trial 9's value at step 2, 0.67, is above 0.66, the best value there (0.6) times 1 + slack_factor 0.1.",
      });
      expect(shouldTerminate(factor, trial(9, [0.1, 0.65]), field, 'minimize').stop).toBe(false);
    });

    it('stops a trial more than slack_amount from the best', () => {
      expect(shouldTerminate(amount, trial(9, [0, 0.59]), field, 'maximize')).toEqual({
        stop: true,
        reason: "Trial 9's value at step 2, 0.59, is below 0.6, the best value there (0.8) less slack_amount 0.2.",
      });
      expect(shouldTerminate(amount, trial(9, [0, 0.61]), field, 'maximize').stop).toBe(false);
      expect(shouldTerminate(amount, trial(9, [0, 0.81]), field, 'minimize')).toMatchObject({ stop: true, reason: expect.stringContaining('above 0.8, the best value there (0.6) plus slack_amount 0.2') as unknown });
    });

    it('keeps its meaning for negative metrics, and never stops the best trial', () => {
      const negative = [trial(1, [-2, -1]), trial(2, [-3, -1.5])];
      // Allowed distance |−1| · 0.1 / 1.1 ≈ 0.0909 below the best.
      expect(shouldTerminate(factor, trial(9, [0, -1.05]), negative, 'maximize').stop).toBe(false);
      expect(shouldTerminate(factor, trial(9, [0, -1.1]), negative, 'maximize').stop).toBe(true);
      expect(shouldTerminate(factor, trial(9, [0, -0.95]), negative, 'maximize').stop).toBe(false);
      expect(shouldTerminate(factor, trial(9, [0, 0.95]), field, 'maximize').stop).toBe(false);
    });

    it('keeps a trial nobody else has got as far as', () => {
      expect(shouldTerminate(factor, trial(9, [0, 0, 0]), field, 'maximize')).toEqual({ stop: false, reason: 'No other trial has reached step 3 yet.' });
    });
  });
});
