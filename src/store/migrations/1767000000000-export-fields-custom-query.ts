import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 14: an export may choose its columns (`fields`: model columns, renamed, or values extracted from JSON) or be
 * defined by a custom ClickHouse query (`custom_query`: SQL, primary key, version key, mode). NULL keeps the
 * model's full schema, as every existing export has.
 */
export class ExportFieldsCustomQuery1767000000000 implements MigrationInterface {
  name = 'ExportFieldsCustomQuery1767000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE batch_exports ADD COLUMN fields jsonb NULL, ADD COLUMN custom_query jsonb NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE batch_exports DROP COLUMN custom_query, DROP COLUMN fields`);
  }
}
