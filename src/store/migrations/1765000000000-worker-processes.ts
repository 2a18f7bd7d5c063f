import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Liveness of worker PROCESSES: each one records the graphile-worker ids its job slots lock jobs with and refreshes
 * `last_seen` every heartbeat. A lock held by an id no live process claims belongs to a dead process (killed while
 * it held a job outside a run's heartbeat window) and is released by the reaper.
 */
export class WorkerProcesses1765000000000 implements MigrationInterface {
  name = 'WorkerProcesses1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE worker_processes (
        id text PRIMARY KEY,
        host text NOT NULL,
        pid int NOT NULL,
        graphile_worker_ids text[] NOT NULL DEFAULT '{}',
        started_at timestamptz NOT NULL DEFAULT now(),
        last_seen timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX worker_processes_last_seen ON worker_processes (last_seen);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE worker_processes`);
  }
}
