import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 16.2: one row per attempt of a run, so a retry no longer loses what the earlier attempts did (the run row
 * keeps only the latest attempt's counts and error) and a duration can be measured from the current attempt's
 * start. `attempt` is the run's attempt counter at the claim (a user's retry starts it again at 1, so the history
 * is ordered by `started_at`, not by `attempt`).
 */
export class RunAttempts1767200000000 implements MigrationInterface {
  name = 'RunAttempts1767200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE run_attempts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        run_id uuid NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        team_id int NOT NULL,
        attempt int NOT NULL,
        worker_id text,
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        status text NOT NULL DEFAULT 'Running',
        error text,
        error_kind text,
        records_read bigint NOT NULL DEFAULT 0,
        records_completed bigint NOT NULL DEFAULT 0,
        bytes_exported bigint NOT NULL DEFAULT 0
      );
      CREATE INDEX run_attempts_run ON run_attempts (run_id, started_at);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE run_attempts`);
  }
}
