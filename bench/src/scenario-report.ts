import type { Second } from './scenario-timeline.js';
import { fmt, mdTable } from './stats.js';
import { lineChart } from './svg-chart.js';

/** One run of the scenario: through the fleet, or straight at the upstream. */
export interface ScenarioRun {
  readonly name: string;
  readonly target: string;
  readonly seconds: readonly Second[];
  readonly totals: {
    requests: number;
    failures: number;
    p50: number;
    p95: number;
    p99: number;
    mean: number;
  };
  readonly durationS: number;
  /** CPU seconds per component during the run. */
  readonly cpu: Readonly<Record<string, number>>;
  /** [seconds, requests in the deployment's rolling window, its rpm] read from /fleet/state. */
  readonly window: ReadonlyArray<readonly [number, number, number]>;
  /** [seconds, replicas limiting on local shares] read from /fleet/state (empty when not sampled). */
  readonly local: ReadonlyArray<readonly [number, number]>;
}

export interface ScenarioReport {
  readonly title: string;
  readonly command: string;
  readonly machine: readonly string[];
  readonly setup: readonly string[];
  readonly tool: string;
  readonly runs: readonly ScenarioRun[];
}

const COLORS = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed'];
const series = (run: ScenarioRun, pick: (s: Second) => number): Array<readonly [number, number]> =>
  run.seconds.map((s) => [s.t, pick(s)] as const);

/** The summary table (markdown), one row per run. */
export function summaryTable(report: ScenarioReport): string {
  return mdTable(
    ['run', 'requests', 'failures', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'mean ms', 'CPU s (component: s)'],
    report.runs.map((r) => [
      r.name,
      fmt(r.totals.requests),
      fmt(r.totals.failures),
      fmt(r.totals.requests / r.durationS, 1),
      fmt(r.totals.p50, 1),
      fmt(r.totals.p95, 1),
      fmt(r.totals.p99, 1),
      fmt(r.totals.mean, 1),
      Object.entries(r.cpu)
        .map(([k, v]) => `${k}: ${fmt(v, 1)}`)
        .join(', '),
    ]),
  );
}

/** The HTML report: charts as inline SVG, the summary, the setup and the command; no scripts. */
export function htmlReport(report: ScenarioReport): string {
  const runs = report.runs;
  const charts = [
    lineChart({
      title: 'Requests per second',
      yLabel: 'requests / s',
      series: runs.flatMap((r, i) => [
        { name: `${r.name}`, color: COLORS[i]!, points: series(r, (s) => s.requests) },
        { name: `${r.name} failures`, color: COLORS[i]!, dashed: true, points: series(r, (s) => s.failures) },
      ]),
    }),
    lineChart({
      title: 'Latency percentiles (client side, per second of send time)',
      yLabel: 'ms',
      series: runs.flatMap((r, i) => [
        { name: `${r.name} p50`, color: COLORS[i]!, points: series(r, (s) => s.p50) },
        { name: `${r.name} p99`, color: COLORS[i]!, dashed: true, points: series(r, (s) => s.p99) },
      ]),
    }),
    ...runs
      .filter((r) => r.window.length > 0)
      .map((r) =>
        lineChart({
          title: `Window fill of the deployment (${r.name}): requests in the rolling minute / rpm ${r.window[0]![2].toLocaleString('en-US')}`,
          yLabel: '% of rpm',
          series: [
            {
              name: 'window fill',
              color: COLORS[2]!,
              points: r.window.map(([t, used, limit]) => [t, (100 * used) / limit]),
            },
          ],
        }),
      ),
    ...runs
      .filter((r) => r.local.length > 0)
      .map((r) =>
        lineChart({
          title: `Replicas on local shares (${r.name}): Redis did not answer within their command timeout`,
          yLabel: 'replicas',
          yMax: Math.max(1, ...r.local.map(([, n]) => n)),
          series: [
            { name: 'replicas in local mode', color: COLORS[1]!, points: r.local.map(([t, n]) => [t, n]) },
          ],
        }),
      ),
    ...runs
      .filter((r) => r.seconds.some((s) => Number.isFinite(s.overheadP50)))
      .map((r) =>
        lineChart({
          title: `Gateway overhead (${r.name}): x-litellm-overhead-duration-ms`,
          yLabel: 'ms',
          series: [
            { name: 'p50', color: COLORS[3]!, points: series(r, (s) => s.overheadP50) },
            { name: 'p99', color: COLORS[3]!, dashed: true, points: series(r, (s) => s.overheadP99) },
          ],
        }),
      ),
  ];
  const list = (items: readonly string[]) =>
    `<ul>${items.map((i) => `<li>${escapeHtml(i)}</li>`).join('')}</ul>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(report.title)}</title>
<style>body{font:14px/1.45 system-ui,sans-serif;margin:24px;max-width:980px}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}th{background:#f5f5f5}code,pre{background:#f5f5f5;padding:2px 4px}svg{display:block;margin:18px 0}</style>
</head><body>
<h1>${escapeHtml(report.title)}</h1>
<p>Load: ${escapeHtml(report.tool)}.</p>
<h2>Summary</h2>
${markdownTableToHtml(summaryTable(report))}
${charts.join('\n')}
<h2>Setup</h2>${list(report.setup)}
<h2>Machine</h2>${list(report.machine)}
<h2>Command</h2><pre>${escapeHtml(report.command)}</pre>
</body></html>
`;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function markdownTableToHtml(md: string): string {
  const rows = md
    .trim()
    .split('\n')
    .filter((l) => !/^[|\s:-]+$/.test(l))
    .map((l) =>
      l
        .replace(/^\||\|$/g, '')
        .split('|')
        .map((c) => c.trim()),
    );
  const [head, ...body] = rows;
  return `<table><tr>${(head ?? []).map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>${body
    .map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`)
    .join('')}</table>`;
}
