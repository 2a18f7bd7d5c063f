/**
 * Where a run's files go. Keys are derived only from the config, the export and the run's interval, so a retry of
 * the same run (same export and interval) writes the same keys and overwrites what an earlier attempt left.
 *
 * Key: `{prefix}/export_id={export}/{start}-{end}[-{n}].{jsonl|parquet}[.gz|.br|.zst]` next to
 * `{prefix}/export_id={export}/{start}-{end}_manifest.json`, where `{start}`/`{end}` are the interval bounds in
 * compact UTC ISO form (`20240131T230000Z`: no colons, which Hadoop-style paths and Windows reject). `-{n}` (from
 * 0) appears when `max_file_size_mb` is set, even when the run fits in one file, so the names do not depend on the
 * data.
 *
 * The `export_id=` folder is always added, whatever the prefix template says: several exports (and several
 * destinations with different templates) may share one folder or bucket, and a run deletes the stale files it
 * finds under its own `{prefix}/export_id={export}/{start}-{end}`. Because that folder is the last one and can
 * only be this export's, no template can make two exports write, or clean up, each other's files. For the same
 * reason a template need not contain `{table}`: an export has one model, and its folder is its own.
 *
 * Key style `posthog` (exports in layout POSTHOG, src/source/posthog-layout.ts) reproduces PostHog's keys inside
 * that folder: the template is filled from the interval END (as PostHog fills it), `{data_interval_start}`/
 * `{data_interval_end}` and the file names use ISO 8601 with `+00:00` (`2024-01-31T23:00:00+00:00`), so a file is
 * `{prefix}/export_id={export}/{start}-{end}[-{n}].{ext}` where PostHog writes `{prefix}/{start}-{end}[-{n}].{ext}`.
 */
import type { Model } from '../models';

export const PREFIX_PLACEHOLDERS = [
  'year', 'month', 'day', 'hour', 'minute', 'second',
  'data_interval_start', 'data_interval_end', 'table', 'team_id', 'export_id',
] as const;

export type KeyStyle = 'outport' | 'posthog';

export interface PrefixVars {
  model: Model;
  interval: { start: Date; end: Date };
  teamId: number;
  exportId: string;
  /** Default: outport. */
  style?: KeyStyle;
}

/** `2024-01-31T23:00:00.250Z` -> `2024-01-31T23:00:00.250000+00:00`: how PostHog (Python's isoformat) writes a UTC time. */
export function posthogIso(d: Date): string {
  const iso = d.toISOString();
  const ms = iso.slice(20, 23);
  return `${iso.slice(0, 19)}${ms === '000' ? '' : `.${ms}000`}+00:00`;
}

const intervalName = (d: Date, style: KeyStyle | undefined) => (style === 'posthog' ? posthogIso(d) : compactUtc(d));

/** `2024-01-31T23:00:00.000Z` -> `20240131T230000Z` (milliseconds kept only when not zero). */
export function compactUtc(d: Date): string {
  const iso = d.toISOString().replace(/[-:]/g, '');
  return iso.endsWith('.000Z') ? iso.slice(0, -5) + 'Z' : iso;
}

/** Problems with a prefix template, as messages (empty when valid). */
export function prefixTemplateProblems(template: string): string[] {
  const problems: string[] = [];
  for (const m of template.matchAll(/\{([^{}]*)\}/g)) {
    if (!(PREFIX_PLACEHOLDERS as readonly string[]).includes(m[1])) {
      problems.push(`unknown placeholder {${m[1]}}; use ${PREFIX_PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}`);
    }
  }
  if (template.split('/').some((seg) => seg === '..' || seg === '.')) problems.push("must not contain '.' or '..' segments");
  if (/[\u0000-\u001f\\]/.test(template)) problems.push('must not contain control characters or backslashes');
  return problems;
}

/** Fills a prefix template from the interval start (UTC; the end in style posthog); leading/trailing/double slashes are dropped. */
export function renderPrefix(template: string, vars: PrefixVars): string {
  const s = vars.style === 'posthog' ? vars.interval.end : vars.interval.start;
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const values: Record<string, string> = {
    year: pad(s.getUTCFullYear(), 4),
    month: pad(s.getUTCMonth() + 1),
    day: pad(s.getUTCDate()),
    hour: pad(s.getUTCHours()),
    minute: pad(s.getUTCMinutes()),
    second: pad(s.getUTCSeconds()),
    data_interval_start: intervalName(vars.interval.start, vars.style),
    data_interval_end: intervalName(vars.interval.end, vars.style),
    table: vars.model,
    team_id: String(vars.teamId),
    export_id: vars.exportId,
  };
  const rendered = template.replace(/\{([a-z_]+)\}/g, (whole, name: string) => values[name] ?? whole);
  return rendered.split('/').filter(Boolean).join('/');
}

export type FileFormat = 'jsonl' | 'parquet';

/** The folder that keeps one export's files apart from every other export's, e.g. `export_id=0a7c…`. */
export function exportFolder(exportId: string): string {
  // One safe path segment: no '/', '\\', '.' or '..', so the folder cannot be escaped or shared.
  if (typeof exportId !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(exportId)) {
    throw new Error(`export id ${JSON.stringify(exportId)} cannot name a folder: use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
  return `export_id=${exportId}`;
}

/** The names of one run's files. */
export interface RunLayout {
  exportId: string;
  /** `{prefix}/export_id={export}/{start}-{end}`: every file of the run starts with it, and only its files do. */
  base: string;
  /** File name extension including compression, e.g. `.jsonl.gz`. */
  extension: string;
  numbered: boolean;
  fileKey(n: number): string;
  manifestKey: string;
  /** `{base}_attempt.json`: which attempt of which run is writing these files now (see run-writer.ts). */
  attemptKey: string;
  /**
   * True for keys this export's runs of this interval produce (any format or numbering, temporary files of a
   * crashed attempt): the files a run may delete as stale. Never true for another export's keys.
   */
  ownsKey(key: string): boolean;
}

const RUN_FILE_SUFFIX = /^(-\d+)?\.(jsonl|parquet)(\.[A-Za-z0-9]+)*$/;

/** The layout of one run of export `exportId` over `interval`, under the rendered `prefix`. */
export function runLayout(prefix: string, interval: { start: Date; end: Date }, extension: string, numbered: boolean, exportId: string, style?: KeyStyle): RunLayout {
  const name = `${intervalName(interval.start, style)}-${intervalName(interval.end, style)}`;
  const folder = exportFolder(exportId);
  const base = prefix ? `${prefix}/${folder}/${name}` : `${folder}/${name}`;
  return {
    exportId,
    base,
    extension,
    numbered,
    fileKey: (n) => (numbered ? `${base}-${n}${extension}` : `${base}${extension}`),
    manifestKey: `${base}_manifest.json`,
    attemptKey: `${base}_attempt.json`,
    ownsKey: (key) => key.startsWith(base) && RUN_FILE_SUFFIX.test(key.slice(base.length)),
  };
}
