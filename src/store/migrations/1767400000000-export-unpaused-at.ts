import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When an export was last unpaused: the automatic pause counts only failures since then, so an export a user
 * fixed and unpaused is not paused again by the very failures that paused it (alerts.ts).
 */
export class ExportUnpausedAt1767400000000 implements MigrationInterface {
  name = 'ExportUnpausedAt1767400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE batch_exports ADD COLUMN unpaused_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE batch_exports DROP COLUMN unpaused_at`);
  }
}
