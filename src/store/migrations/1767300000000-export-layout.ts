import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 14 (PostHog compatibility): which columns an export writes. OUTPORT (what every existing export gets) is
 * Outport's model columns or the export's fields; POSTHOG is the events columns PostHog writes to the destination's
 * kind (src/source/posthog-layout.ts).
 */
export class ExportLayout1767300000000 implements MigrationInterface {
  name = 'ExportLayout1767300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE batch_exports ADD COLUMN layout text NOT NULL DEFAULT 'OUTPORT' CHECK (layout IN ('OUTPORT', 'POSTHOG'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE batch_exports DROP COLUMN layout`);
  }
}
