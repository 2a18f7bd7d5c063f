import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Values a run changed by a documented lossy rule, per column and rule (see src/sdk/replacements.ts). */
export class RunReplacements1764100000000 implements MigrationInterface {
  name = 'RunReplacements1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE runs ADD COLUMN replacements jsonb NOT NULL DEFAULT '[]'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE runs DROP COLUMN replacements`);
  }
}
