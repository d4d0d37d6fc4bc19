import assert from 'node:assert/strict';
import {
  anticipatedSlots, DEFAULT_FAN_OUT_OPTIONS, emptyFanOut, FanOutState, recordFanOut, type Arrival,
} from '../../runtime/controllers/warm-pool/fan-out.ts';

const MIN = 60_000;
const T0 = Date.UTC(2025, 0, 6, 9, 0, 0);
const { warmUpMs, graceMs } = DEFAULT_FAN_OUT_OPTIONS;
const BUILD = 'acme/app/pipeline/build';

/** A pipeline run: its build at `at`, then `size` tests queued `lagMin` minutes later (2 s apart, as a matrix arrives). */
function pipeline(run: string, at: number, lagMin: number, size: number): Arrival[] {
  const tests = Array.from({ length: size }, (_, i) => ({ at: at + lagMin * MIN + i * 2_000, run, key: `acme/app/pipeline/test (${i + 1})` }));
  return [{ at, run, key: BUILD }, ...tests];
}

/** Feeds arrivals in time order, as passes would (one call each), and returns the state after. */
function feed(arrivals: Arrival[], state = emptyFanOut()): FanOutState {
  for (const a of [...arrivals].sort((x, y) => x.at - y.at)) state = recordFanOut(state, [a], a.at).state;
  return state;
}

const learned = () => feed([...pipeline('r1', T0, 6, 12), ...pipeline('r2', T0 + 20 * MIN, 4, 16)]);

describe('fan-out anticipation (pure)', () => {
  it('learns that a build is followed by its matrix: the next build warms the largest wave seen, from one warm-up before the earliest lag until the latest has passed', () => {
    const at = T0 + 60 * MIN;
    const state = recordFanOut(learned(), [{ at, run: 'r3', key: BUILD }], at).state;
    const from = at + 4 * MIN - warmUpMs;
    const until = at + 6 * MIN + graceMs;
    assert.deepEqual(anticipatedSlots(state, from - 1), { slots: 0, holdMs: 0 });
    assert.deepEqual(anticipatedSlots(state, from), { slots: 16, holdMs: until - from });
    assert.equal(anticipatedSlots(state, until - 1).slots, 16);
    assert.equal(anticipatedSlots(state, until).slots, 0);
  });

  it('one wave is not a pattern: a build followed once expects nothing', () => {
    const state = feed([...pipeline('r1', T0, 6, 12), { at: T0 + 30 * MIN, run: 'r2', key: BUILD }]);
    assert.equal(anticipatedSlots(state, T0 + 33 * MIN).slots, 0);
  });

  it('jobs whose runs have no later stage expect nothing, however often they come', () => {
    const pushes: Arrival[] = Array.from({ length: 30 }, (_, i) => ({ at: T0 + i * 2 * MIN, run: `push-${i}`, key: 'acme/app/ci/check' }));
    const state = feed(pushes);
    assert.equal(state.expected.length, 0);
  });

  it('a key followed by a wave in fewer than half of its recent runs expects nothing', () => {
    const quiet: Arrival[] = Array.from({ length: 4 }, (_, i) => ({ at: T0 + (40 + i) * MIN, run: `q${i}`, key: BUILD }));
    const state = feed([...pipeline('r1', T0, 6, 12), ...pipeline('r2', T0 + 20 * MIN, 4, 16), ...quiet, { at: T0 + 50 * MIN, run: 'r9', key: BUILD }]);
    assert.equal(state.expected.length, 0);
  });

  it('the expected wave is marked as anticipated, in every pass it spans, and ends the expectation', () => {
    const at = T0 + 60 * MIN;
    let state = recordFanOut(learned(), [{ at, run: 'r3', key: BUILD }], at).state;
    const wave = pipeline('r3', at, 5, 6).slice(1);
    const first = recordFanOut(state, wave.slice(0, 3), wave[2]!.at);
    assert.deepEqual(first.anticipated, [true, true, true]);
    assert.equal(anticipatedSlots(first.state, wave[2]!.at).slots, 0);
    state = first.state;
    const rest = recordFanOut(state, wave.slice(3), wave[5]!.at);
    assert.deepEqual(rest.anticipated, [true, true, true]);
    // The wave of 6 became a sample of the build: the largest wave seen is still 16.
    const stats = rest.state.keys.find((k) => k.key === BUILD)!;
    assert.deepEqual(stats.waves.map((w) => w.size), [12, 16, 6]);
  });

  it('a wave nobody expected is not marked, and teaches the key', () => {
    const update = recordFanOut(feed(pipeline('r1', T0, 6, 1).slice(0, 1)), [{ at: T0 + 6 * MIN, run: 'r1', key: 'acme/app/pipeline/test (1)' }], T0 + 6 * MIN);
    assert.deepEqual(update.anticipated, [false]);
    assert.deepEqual(update.state.keys.find((k) => k.key === BUILD)!.waves, [{ lag: 6 * MIN, size: 1 }]);
  });

  it('a re-run (another attempt) and jobs of the same stage are not waves', () => {
    const state = feed([
      { at: T0, run: 'r1#1', key: BUILD }, { at: T0 + 4_000, run: 'r1#1', key: 'acme/app/pipeline/lint' },
      { at: T0 + 10 * MIN, run: 'r1#2', key: BUILD },
    ]);
    assert.ok(state.keys.every((k) => k.waves.length === 0));
  });

  it('arrivals without a run or a job identity change nothing it learned', () => {
    const before = learned();
    const after = recordFanOut(before, [{ at: T0 + 30 * MIN }, { at: T0 + 30 * MIN, run: 'new-run' }], T0 + 30 * MIN);
    assert.deepEqual(after.anticipated, [false, false]);
    assert.deepEqual(after.state.keys, before.keys);
  });

  it('forgets runs after the run memory and keeps at most maxKeys keys, the most recent', () => {
    const options = { ...DEFAULT_FAN_OUT_OPTIONS, maxKeys: 3 };
    let state = emptyFanOut();
    for (let i = 0; i < 5; i++) state = recordFanOut(state, [{ at: T0 + i * MIN, run: `r${i}`, key: `k${i}` }], T0 + i * MIN, options).state;
    assert.deepEqual(state.keys.map((k) => k.key), ['k2', 'k3', 'k4']);
    state = recordFanOut(state, [], T0 + 4 * MIN + options.runMemoryMs + 1, options).state;
    assert.equal(state.runs.length, 0);
  });

  it('leaves the state it was given as it was', () => {
    const at = T0 + 60 * MIN;
    const wave = pipeline('r3', at, 5, 6).slice(1);
    // Mid-wave: the next arrivals continue a wave and grow a sample that this state holds.
    const before = recordFanOut(learned(), [{ at, run: 'r3', key: BUILD }, ...wave.slice(0, 2)], at + 5 * MIN).state;
    const copy = structuredClone(before);
    recordFanOut(before, wave.slice(2), at + 6 * MIN);
    assert.deepEqual(before, copy);
  });

  it('its state survives being stored as JSON', () => {
    const at = T0 + 60 * MIN;
    const state = recordFanOut(learned(), [{ at, run: 'r3', key: BUILD }], at).state;
    const back = FanOutState.parse(JSON.parse(JSON.stringify(state)));
    assert.deepEqual(anticipatedSlots(back, at + 5 * MIN), anticipatedSlots(state, at + 5 * MIN));
  });
});
