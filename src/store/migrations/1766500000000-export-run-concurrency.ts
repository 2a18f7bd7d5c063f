import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * How many runs of one export may execute at once (issue 13.5). Only events exports use more than one: their rows
 * are immutable, so runs of disjoint intervals cannot interfere. Persons and sessions always run one at a time in
 * interval order, whatever this says. Existing exports get the default too.
 */
export class ExportRunConcurrency1766500000000 implements MigrationInterface {
  name = 'ExportRunConcurrency1766500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE batch_exports ADD COLUMN max_concurrent_runs int NOT NULL DEFAULT 4
        CONSTRAINT batch_exports_max_concurrent_runs_range CHECK (max_concurrent_runs BETWEEN 1 AND 32)
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE batch_exports DROP COLUMN max_concurrent_runs`);
  }
}
