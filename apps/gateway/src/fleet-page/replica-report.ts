import type { FleetView } from '@fleetgate/ratelimit';
import type { Logger } from '../log.js';

/** What each replica publishes about itself for the fleet page, every second. */
export interface ReplicaReport {
  readonly version: string;
  /** ISO time the replica started. */
  readonly started_at: string;
  /** 'shared' or 'local' (this replica's view of where its limits live). */
  readonly mode: string;
  /** Per deployment id: in flight now, calls that succeeded, calls that failed (since start). */
  readonly deployments: Record<string, { inFlight: number; ok: number; failed: number }>;
}

export interface ReportOptions {
  readonly view: FleetView;
  readonly replicaId: string;
  readonly read: () => ReplicaReport;
  readonly logger: Logger;
  /** @default 1000 */
  readonly intervalMs?: number;
}

/**
 * Publishes this replica's report now and then every `intervalMs` (kept for 5 intervals, so a dead
 * replica's report disappears within seconds). Failures are logged once per streak; the page simply
 * shows the replica without fresh numbers. Returns the stop.
 */
export function startReplicaReports(options: ReportOptions): () => void {
  const intervalMs = options.intervalMs ?? 1_000;
  let failing = false;
  const publish = () => {
    options.view.report(options.replicaId, JSON.stringify(options.read()), intervalMs * 5).then(
      () => {
        failing = false;
      },
      (error: unknown) => {
        if (!failing) options.logger.debug({ msg: 'fleet report not published', err: String(error) });
        failing = true;
      },
    );
  };
  publish();
  const timer = setInterval(publish, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
