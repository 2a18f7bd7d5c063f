import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Initial1764000000000 implements MigrationInterface {
  name = 'Initial1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE teams (
        id serial PRIMARY KEY,
        name text NOT NULL,
        webhook_url text,
        max_concurrent_backfills int NOT NULL DEFAULT 2,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE api_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        team_id int NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
        name text NOT NULL,
        token_hash text NOT NULL UNIQUE,
        display_prefix text NOT NULL,
        scopes text[] NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        revoked_at timestamptz
      );
      CREATE TABLE destinations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        team_id int NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
        name text NOT NULL,
        type text NOT NULL,
        config jsonb NOT NULL DEFAULT '{}',
        encrypted_secrets text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz
      );
      CREATE INDEX destinations_team ON destinations (team_id) WHERE deleted_at IS NULL;
      CREATE TABLE batch_exports (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        team_id int NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
        name text NOT NULL,
        destination_id uuid NOT NULL REFERENCES destinations(id),
        model text NOT NULL CHECK (model IN ('events', 'persons', 'sessions')),
        interval text NOT NULL,
        timezone text NOT NULL DEFAULT 'UTC',
        offset_hour int NOT NULL DEFAULT 0,
        offset_day int NOT NULL DEFAULT 0,
        include_events text[] NOT NULL DEFAULT '{}',
        exclude_events text[] NOT NULL DEFAULT '{}',
        filters jsonb NOT NULL DEFAULT '[]',
        start_at timestamptz,
        end_at timestamptz,
        paused boolean NOT NULL DEFAULT false,
        paused_at timestamptz,
        paused_reason text,
        scheduled_until timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz
      );
      CREATE INDEX batch_exports_team ON batch_exports (team_id, created_at DESC, id) WHERE deleted_at IS NULL;
      CREATE INDEX batch_exports_schedulable ON batch_exports (scheduled_until) WHERE deleted_at IS NULL AND NOT paused;
      CREATE TABLE backfills (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        team_id int NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
        batch_export_id uuid NOT NULL REFERENCES batch_exports(id),
        start_at timestamptz NOT NULL,
        end_at timestamptz NOT NULL,
        status text NOT NULL,
        total_runs int NOT NULL DEFAULT 0,
        estimate jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      );
      CREATE INDEX backfills_export ON backfills (batch_export_id, created_at DESC);
      CREATE TABLE runs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        team_id int NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
        batch_export_id uuid NOT NULL REFERENCES batch_exports(id),
        backfill_id uuid REFERENCES backfills(id),
        interval_start timestamptz NOT NULL,
        interval_end timestamptz NOT NULL,
        status text NOT NULL,
        trigger text NOT NULL DEFAULT 'schedule',
        attempt int NOT NULL DEFAULT 0,
        records_total_count bigint,
        records_read bigint NOT NULL DEFAULT 0,
        records_completed bigint NOT NULL DEFAULT 0,
        bytes_exported bigint NOT NULL DEFAULT 0,
        latest_error text,
        error_kind text,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz,
        heartbeat_at timestamptz,
        cancel_requested_at timestamptz,
        next_attempt_at timestamptz,
        worker_id text,
        CHECK (interval_end > interval_start)
      );
      -- Two schedulers racing on one interval: the second insert hits this and creates nothing.
      CREATE UNIQUE INDEX runs_scheduled_interval ON runs (batch_export_id, interval_start, interval_end) WHERE backfill_id IS NULL;
      CREATE INDEX runs_export_interval ON runs (batch_export_id, interval_start DESC, id);
      CREATE INDEX runs_export_created ON runs (batch_export_id, created_at DESC, id);
      CREATE INDEX runs_backfill ON runs (backfill_id) WHERE backfill_id IS NOT NULL;
      CREATE INDEX runs_active ON runs (status, heartbeat_at) WHERE status IN ('Starting', 'Running', 'FailedRetryable');
      CREATE TABLE log_entries (
        id bigserial PRIMARY KEY,
        team_id int NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
        batch_export_id uuid NOT NULL,
        run_id uuid,
        level text NOT NULL,
        message text NOT NULL,
        timestamp timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX log_entries_export ON log_entries (batch_export_id, timestamp DESC);
      CREATE INDEX log_entries_run ON log_entries (run_id, timestamp DESC) WHERE run_id IS NOT NULL;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE log_entries, runs, backfills, batch_exports, destinations, api_tokens, teams`);
  }
}
