/**
 * Line charts as standalone SVG, for bench reports that open in any browser without a library or a
 * network: x is seconds into the run, each series a polyline, with axes, ticks and a legend.
 */
export interface ChartSeries {
  readonly name: string;
  /** [seconds, value]; NaN values break the line. */
  readonly points: ReadonlyArray<readonly [number, number]>;
  readonly color: string;
  readonly dashed?: boolean;
}

export interface Chart {
  readonly title: string;
  readonly yLabel: string;
  readonly series: readonly ChartSeries[];
  /** @default 0 */
  readonly yMin?: number;
  /** @default the data's maximum, rounded up */
  readonly yMax?: number;
  /** @default 940 */
  readonly width?: number;
  /** @default 300 */
  readonly height?: number;
}

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A "nice" upper bound and tick step for an axis from 0 to `max`. */
export function niceScale(max: number, ticks = 5): { max: number; step: number } {
  if (!(max > 0) || !Number.isFinite(max)) return { max: 1, step: 0.2 };
  const raw = max / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  return { max: Math.ceil(max / step) * step, step };
}

function label(v: number): string {
  if (v === 0) return '0';
  if (Math.abs(v) >= 1000) return `${(v / 1000).toLocaleString('en-US', { maximumFractionDigits: 1 })}k`;
  return v.toLocaleString('en-US', { maximumFractionDigits: Math.abs(v) < 1 ? 3 : 1 });
}

export function lineChart(chart: Chart): string {
  const width = chart.width ?? 940;
  const height = chart.height ?? 300;
  const pad = { left: 64, right: 230, top: 34, bottom: 42 };
  const w = width - pad.left - pad.right;
  const h = height - pad.top - pad.bottom;
  const all = chart.series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(y));
  const xMax = niceScale(Math.max(1, ...all.map(([x]) => x)), 6);
  const yMin = chart.yMin ?? 0;
  const y = niceScale((chart.yMax ?? Math.max(0, ...all.map(([, v]) => v))) - yMin, 5);
  const px = (x: number) => pad.left + (x / xMax.max) * w;
  const py = (v: number) => pad.top + h - ((v - yMin) / y.max) * h;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="system-ui, sans-serif" font-size="11">`,
    `<text x="${pad.left}" y="20" font-size="14" font-weight="600">${esc(chart.title)}</text>`,
    `<text transform="translate(14 ${pad.top + h / 2}) rotate(-90)" text-anchor="middle" fill="#555">${esc(chart.yLabel)}</text>`,
    `<text x="${pad.left + w / 2}" y="${height - 6}" text-anchor="middle" fill="#555">seconds into the run</text>`,
  ];
  for (let v = 0; v <= y.max + 1e-9; v += y.step) {
    const yy = py(v + yMin).toFixed(1);
    out.push(
      `<line x1="${pad.left}" x2="${pad.left + w}" y1="${yy}" y2="${yy}" stroke="#e5e7eb"/>`,
      `<text x="${pad.left - 6}" y="${yy}" dy="4" text-anchor="end" fill="#555">${label(v + yMin)}</text>`,
    );
  }
  for (let x = 0; x <= xMax.max + 1e-9; x += xMax.step) {
    const xx = px(x).toFixed(1);
    out.push(
      `<line x1="${xx}" x2="${xx}" y1="${pad.top + h}" y2="${pad.top + h + 4}" stroke="#555"/>`,
      `<text x="${xx}" y="${pad.top + h + 16}" text-anchor="middle" fill="#555">${label(x)}</text>`,
    );
  }
  out.push(`<rect x="${pad.left}" y="${pad.top}" width="${w}" height="${h}" fill="none" stroke="#9ca3af"/>`);
  chart.series.forEach((s, i) => {
    const segments: string[][] = [[]];
    for (const [x, v] of s.points) {
      if (!Number.isFinite(v)) segments.push([]);
      else
        segments[segments.length - 1]!.push(
          `${px(x).toFixed(1)},${py(Math.min(v, yMin + y.max)).toFixed(1)}`,
        );
    }
    for (const seg of segments.filter((p) => p.length > 0))
      out.push(
        `<polyline fill="none" stroke="${s.color}" stroke-width="1.6"${s.dashed ? ' stroke-dasharray="5 3"' : ''} points="${seg.join(' ')}"/>`,
      );
    const ly = pad.top + 8 + i * 16;
    out.push(
      `<line x1="${pad.left + w + 12}" x2="${pad.left + w + 32}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`,
      `<text x="${pad.left + w + 38}" y="${ly}" dy="4">${esc(s.name)}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n');
}
