import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Notifications (issue 16.7): channels (team defaults with `batch_export_id` NULL, or one export's own), the
 * outbox of messages the worker delivers, and the occurrences already notified (one slow-run notice per run, one
 * staleness notice per stale episode) so the scheduler tick and the worker never notify the same thing twice, and
 * which exports are failing (so their next success is a recovery, also when it is a retry of the failed run).
 */
export class Notifications1766000000000 implements MigrationInterface {
  name = 'Notifications1766000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE notification_channels (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        team_id int NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
        batch_export_id uuid REFERENCES batch_exports(id) ON DELETE CASCADE,
        name text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('webhook', 'slack', 'email')),
        config jsonb NOT NULL DEFAULT '{}',
        secrets_encrypted text,
        events text[] NOT NULL,
        slow_run_seconds int,
        stale_intervals int,
        rate_limit_seconds int NOT NULL DEFAULT 900,
        enabled boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX notification_channels_team ON notification_channels (team_id, batch_export_id);

      CREATE TABLE notifications (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        team_id int NOT NULL,
        channel_id uuid NOT NULL REFERENCES notification_channels(id) ON DELETE CASCADE,
        batch_export_id uuid,
        event text NOT NULL,
        dedupe_key text NOT NULL UNIQUE,
        payload jsonb NOT NULL,
        suppressed_count int NOT NULL DEFAULT 0,
        status text NOT NULL DEFAULT 'Pending' CHECK (status IN ('Pending', 'Delivered', 'Failed')),
        attempts int NOT NULL DEFAULT 0,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        delivered_at timestamptz
      );
      CREATE INDEX notifications_team_created ON notifications (team_id, created_at DESC);

      CREATE TABLE notification_occurrences (
        channel_id uuid NOT NULL REFERENCES notification_channels(id) ON DELETE CASCADE,
        occurrence text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (channel_id, occurrence)
      );

      -- An export whose latest finished run failed, since when: its next success is a recovery.
      CREATE TABLE export_failure_state (
        batch_export_id uuid PRIMARY KEY REFERENCES batch_exports(id) ON DELETE CASCADE,
        failing_since timestamptz NOT NULL DEFAULT now()
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE export_failure_state; DROP TABLE notification_occurrences; DROP TABLE notifications; DROP TABLE notification_channels;`);
  }
}
