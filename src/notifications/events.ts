/**
 * What a notification is about and how it reads. One event is rendered per channel, because thresholds (slow-run
 * seconds, stale intervals) belong to the channel.
 */
export const NOTIFICATION_EVENTS = ['run_failed', 'export_auto_paused', 'export_recovered', 'run_slow', 'export_stale'] as const;
export type NotificationEventKind = (typeof NOTIFICATION_EVENTS)[number];

export interface NotificationEvent {
  event: NotificationEventKind | 'test';
  teamId: number;
  batchExportId: string | null;
  batchExportName: string | null;
  runId?: string;
  intervalStart?: string;
  intervalEnd?: string;
  error?: string | null;
  reason?: string;
  /** export_recovered: when the failures began. */
  failingSince?: string;
  /** run_slow: how long the run has taken so far (running) or took (finished). */
  durationSeconds?: number;
  /** run_slow: whether the run was still running when it was found slow. */
  stillRunning?: boolean;
  /** export_stale: end of the last completed interval (null: nothing completed yet) and the export's interval length. */
  lastCompletedEnd?: string | null;
  lagSeconds?: number;
  intervalSeconds?: number;
  /**
   * What makes this one occurrence, e.g. `slow:<runId>` or `stale:<exportId>:<lastCompletedEnd>`: a channel hears
   * of an occurrence at most once, whoever finds it (the scheduler tick or the worker).
   */
  occurrence?: string;
  at: string;
}

export interface ChannelThresholds {
  slowRunSeconds: number | null;
  staleIntervals: number | null;
}

/** Whether a channel subscribed to the event's kind wants this one (thresholds are per channel). */
export function crossesThreshold(e: NotificationEvent, ch: ChannelThresholds): boolean {
  if (e.event === 'run_slow') return ch.slowRunSeconds != null && (e.durationSeconds ?? 0) > ch.slowRunSeconds;
  if (e.event === 'export_stale') {
    return ch.staleIntervals != null && e.intervalSeconds != null && (e.lagSeconds ?? 0) > ch.staleIntervals * e.intervalSeconds;
  }
  return true;
}

const EVENT_TITLES: Record<NotificationEvent['event'], string> = {
  run_failed: 'Run failed',
  export_auto_paused: 'Export paused automatically',
  export_recovered: 'Export recovered',
  run_slow: 'Run slower than its threshold',
  export_stale: 'Data is stale',
  test: 'Test notification',
};

export function eventTitle(kind: string): string {
  return EVENT_TITLES[kind as NotificationEvent['event']] ?? kind;
}

const duration = (s: number) => (s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 60 ? `${Math.round(s / 60)} min` : `${Math.round(s)} s`);

/** One line that reads well in Slack, an email subject+body and a log. */
export function describeEvent(e: NotificationEvent, ch: ChannelThresholds): string {
  const exp = `export "${e.batchExportName ?? e.batchExportId}"`;
  const interval = e.intervalStart ? ` for ${e.intervalStart} – ${e.intervalEnd}` : '';
  switch (e.event) {
    case 'run_failed':
      return `Outport: ${exp} failed${interval}: ${e.error ?? 'unknown error'}`;
    case 'export_auto_paused':
      return `Outport: ${exp} was paused. ${e.reason ?? ''}`.trim();
    case 'export_recovered':
      return `Outport: ${exp} recovered: a run completed${interval} after runs failed${e.failingSince ? ` since ${e.failingSince}` : ''}.`;
    case 'run_slow':
      return (
        `Outport: a run of ${exp}${interval} ${e.stillRunning ? 'has been running for' : 'took'} ${duration(e.durationSeconds ?? 0)}, ` +
        `over the ${duration(ch.slowRunSeconds ?? 0)} threshold.`
      );
    case 'export_stale':
      return (
        `Outport: data of ${exp} is stale: ${e.lastCompletedEnd ? `the last completed interval ended ${e.lastCompletedEnd}` : 'no interval has completed yet'}, ` +
        `${duration(e.lagSeconds ?? 0)} ago, more than ${ch.staleIntervals} intervals.`
      );
    case 'test':
      return 'Outport: test notification. If you can read this, the channel works.';
  }
}
