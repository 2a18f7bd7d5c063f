/**
 * PostHog-compatible file keys (issue 14 item 4): the prefix template filled the way PostHog fills it (from the
 * interval end; {data_interval_start}/{data_interval_end} as ISO 8601 with +00:00) and PostHog's file names, inside
 * the export's own folder, which still keeps exports apart.
 */
import { prefixTemplateProblems, renderPrefix, runLayout } from '../../src/sdk/files/keys';

const interval = { start: new Date('2024-03-05T23:00:00Z'), end: new Date('2024-03-06T00:00:00Z') };
const vars = { model: 'events' as const, interval, teamId: 42, exportId: 'exp1' };

it('fills a PostHog prefix template from the interval end, dates as PostHog writes them', () => {
  expect(renderPrefix('posthog/{year}/{month}/{day}/{hour}', { ...vars, style: 'posthog' })).toBe('posthog/2024/03/06/00');
  expect(renderPrefix('x/{data_interval_start}_{data_interval_end}', { ...vars, style: 'posthog' })).toBe('x/2024-03-05T23:00:00+00:00_2024-03-06T00:00:00+00:00');
  // Outport's own style is unchanged: from the start, compact dates.
  expect(renderPrefix('{table}/{year}/{month}/{day}/{hour}', vars)).toBe('events/2024/03/05/23');
});

it('names files as PostHog does, in the export\'s own folder, and owns only its own keys', () => {
  const mine = runLayout('posthog', interval, '.jsonl.gz', false, 'exp1', 'posthog');
  const stem = '2024-03-05T23:00:00+00:00-2024-03-06T00:00:00+00:00';
  expect(mine.fileKey(0)).toBe(`posthog/export_id=exp1/${stem}.jsonl.gz`);
  expect(runLayout('posthog', interval, '.parquet', true, 'exp1', 'posthog').fileKey(2)).toBe(`posthog/export_id=exp1/${stem}-2.parquet`);
  expect(mine.manifestKey).toBe(`posthog/export_id=exp1/${stem}_manifest.json`);
  const other = runLayout('posthog', interval, '.jsonl.gz', false, 'exp', 'posthog');
  const outportStyle = runLayout('posthog', interval, '.jsonl.gz', false, 'exp1');
  for (const key of [other.fileKey(0), other.manifestKey, outportStyle.fileKey(0)]) expect(mine.ownsKey(key)).toBe(false);
  expect(mine.ownsKey(`posthog/export_id=exp1/${stem}.jsonl.gz.abc.tmp`)).toBe(true);
  const ms = runLayout('', { start: new Date('2024-03-05T23:00:00.250Z'), end: interval.end }, '.jsonl', false, 'e', 'posthog');
  expect(ms.fileKey(0)).toBe('export_id=e/2024-03-05T23:00:00.250000+00:00-2024-03-06T00:00:00+00:00.jsonl');
});

it('accepts a PostHog prefix without {table}: the export\'s own folder keeps exports and models apart', () => {
  expect(prefixTemplateProblems('posthog-events/{year}-{month}-{day}')).toEqual([]);
});
