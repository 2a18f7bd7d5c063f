/**
 * A process loads the code of the roles it runs: the GraphQL API stack (~30 MiB resident) stays out of a worker-only
 * process (issue 13: a worker's peak RSS under 200 MiB; everything loaded at boot is paid by every run).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const DIST = path.resolve(__dirname, '..', 'dist', 'src');

/** Modules under dist/src/api/ in the require cache of a fresh process after requiring `modules`. */
function apiModulesLoadedBy(modules: string[]): string[] {
  const script = `
    require('reflect-metadata');
    for (const m of ${JSON.stringify(modules)}) require(m);
    const api = ${JSON.stringify(path.join(DIST, 'api') + path.sep)};
    console.log(JSON.stringify(Object.keys(require.cache).filter((k) => k.startsWith(api))));
  `;
  const out = spawnSync(process.execPath, ['-e', script], { cwd: path.resolve(__dirname, '..'), encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`the child failed: ${out.stderr}`);
  return JSON.parse(out.stdout.trim().split('\n').pop()!) as string[];
}

describe('roles load their own code', () => {
  it('boot() and the worker load none of the API modules until the api role starts', () => {
    const loaded = apiModulesLoadedBy([path.join(DIST, 'app.js'), path.join(DIST, 'worker', 'worker.js'), path.join(DIST, 'config.js')]);
    expect(loaded).toEqual([]);
  });

});
