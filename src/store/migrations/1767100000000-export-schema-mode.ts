import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 14 (schema evolution): how an export's runs treat a destination table whose columns differ from the ones
 * the export writes. EVOLVE (what every existing export gets) adds missing columns; FROZEN fails the run instead.
 */
export class ExportSchemaMode1767100000000 implements MigrationInterface {
  name = 'ExportSchemaMode1767100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE batch_exports ADD COLUMN schema_mode text NOT NULL DEFAULT 'EVOLVE' CHECK (schema_mode IN ('EVOLVE', 'FROZEN'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE batch_exports DROP COLUMN schema_mode`);
  }
}
