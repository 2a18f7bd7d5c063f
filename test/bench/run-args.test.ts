/** `npm run bench`'s flags and the shape of bench/results/latest.json (no timing: the numbers here are made up). */
import { buildResult, parseArgs, type Line } from '../../bench/run';
import type { BackfillReport } from '../../bench/backfill-concurrency';

describe('bench flags', () => {
  it('measures every built-in destination on both paths, with backfills, by default', () => {
    const o = parseArgs([]);
    expect(o.destinations).toEqual(['postgres', 's3-parquet', 's3-jsonl', 'local-files', 'redshift', 'bigquery', 'snowflake']);
    expect(o.paths).toEqual(['bytes', 'rows']);
    expect(o.events).toBe(1_000_000);
    expect(o.skipBackfill).toBe(false);
    expect(o.backfill).toMatchObject({ smallRuns: 720, smallRows: 1000, concurrency: 4 });
  });

  it('--memory-check is 5M events on the default path only, unless the events are given', () => {
    expect(parseArgs(['--memory-check'])).toMatchObject({ events: 5_000_000, persons: 0, paths: ['bytes'], skipLimits: true, skipBackfill: true, skipScale: true });
    expect(parseArgs(['--events', '2_000_000', '--memory-check', '--destinations', 'bigquery']).events).toBe(2_000_000);
    expect(parseArgs(['--memory-check', '--destinations', 'bigquery']).destinations).toEqual(['bigquery']);
  });

  it('reads backfill sizes as RUNS,EVENTS and names what is wrong', () => {
    const o = parseArgs(['--backfill-small', '48,1000', '--backfill-large', '0,0', '--backfill-concurrency', '8', '--backfill-destinations', 'postgres']);
    expect(o.backfill).toMatchObject({ smallRuns: 48, smallRows: 1000, largeRuns: 0, largeRows: 0, concurrency: 8, workerSlots: 8, destinations: ['postgres'] });
    expect(() => parseArgs(['--backfill-small', '48'])).toThrow('--backfill-small takes RUNS,EVENTS_PER_RUN');
    expect(() => parseArgs(['--destinations', 'postgres,oracle'])).toThrow(/--destinations takes a comma list of postgres, .*snowflake/);
    expect(() => parseArgs(['--events'])).toThrow('--events needs an integer >= 1');
    expect(() => parseArgs(['--fast'])).toThrow('unknown flag --fast');
  });
});

describe('latest.json', () => {
  const line = (l: Partial<Line> & Pick<Line, 'group' | 'what'>): Line => ({
    rows: 1000, seconds: 1, rowsPerSecond: 1000, mbPerSecond: null, outputMB: null, workerPeakRssMiB: null, ratioToLimit: null, ...l,
  });

  it('keeps ratioToLimit per destination from its default path, peak RSS per run and the targets met or missed', () => {
    const lines: Line[] = [
      line({ group: 'redshift', what: 'limit' }),
      line({ group: 'redshift', what: 'Outport → Redshift (bytes path)', dataPath: 'bytes', defaultPath: true, ratioToLimit: 0.75, workerPeakRssMiB: 150, status: 'Completed' }),
      line({ group: 'redshift', what: 'Outport → Redshift (rows path, forced)', dataPath: 'rows', defaultPath: false, ratioToLimit: 0.3, workerPeakRssMiB: 350, status: 'Completed' }),
      line({ group: 'postgres', what: 'Outport → Postgres (rows path)', dataPath: 'rows', defaultPath: true, ratioToLimit: 0.5, workerPeakRssMiB: 250, status: 'Completed' }),
    ];
    const backfill: BackfillReport = {
      settings: { smallRuns: 2, smallRows: 500, largeRuns: 1, largeRows: 1000, concurrency: 4, workerSlots: 4, destinations: ['postgres'] },
      results: [1, 4].flatMap((c) => [
        { destination: 'postgres', scenario: 'small' as const, maxConcurrentRuns: c, runs: 2, rows: 1000, seconds: c === 1 ? 8 : 2, rowsPerSecond: 100, runsPerSecond: 1, meanRunSeconds: 1, workerCpuSeconds: 1, machineCpuSeconds: 1, workerCpuMicrosPerRow: 1, machineCpuMicrosPerRow: 1, maxOverlap: c, failed: 0 },
        { destination: 'postgres', scenario: 'large' as const, maxConcurrentRuns: c, runs: 1, rows: 1000, seconds: 1, rowsPerSecond: 500, runsPerSecond: 1, meanRunSeconds: 1, workerCpuSeconds: 1, machineCpuSeconds: 1, workerCpuMicrosPerRow: 1, machineCpuMicrosPerRow: 1, maxOverlap: 1, failed: 0 },
      ]),
      speedups: [{ destination: 'postgres', scenario: 'small', speedup: 4 }, { destination: 'postgres', scenario: 'large', speedup: 1 }],
      workerPeakRssMiB: 170,
    };
    const result = buildResult({
      o: parseArgs([]), machine: { loadAverageAtStart: [1, 2, 3] }, lines, backfill, limitRate: { postgres: 1000 }, profiles: {},
    });
    expect(result.ratioToLimit).toEqual({ redshift: 0.75, postgres: 0.5 });
    expect(result.machine.loadAverageAtStart).toEqual([1, 2, 3]);
    expect(result.peakRssMiB).toMatchObject({ 'Outport → Redshift (bytes path)': 150, 'Outport → Postgres (rows path)': 250, 'backfill worker (all backfills)': 170 });
    const met = Object.fromEntries(result.targets.map((t) => [t.what, t.met]));
    expect(met['redshift Outport/limit (bytes path)']).toBe(true); // 0.7 for the stand-ins
    expect(met['postgres Outport/limit (rows path)']).toBe(false); // 0.8
    expect(met['Worker peak RSS, Outport → Redshift (bytes path), 1,000 rows']).toBe(true);
    expect(met['Worker peak RSS, Outport → Postgres (rows path), 1,000 rows']).toBe(false);
    // The forced row path is for comparison: no RSS target of its own.
    expect(result.targets.some((t) => t.what.startsWith('Worker peak RSS, Outport → Redshift (rows path, forced)'))).toBe(false);
    expect(result.targets.find((t) => t.what.startsWith('Backfill 2 x 500 events → postgres'))).toMatchObject({ actual: '4x', met: true });
    expect(result.targets.find((t) => t.what.startsWith('Backfill 1 x 1,000 events → postgres'))).toMatchObject({ met: false }); // 500 of 1,000 rows/s
  });
});
