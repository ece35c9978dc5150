/**
 * The savings chart: one measure per period, stacked bars per team or
 * environment, drawn by uPlot (small, maintained, canvas; its stylesheet is
 * bundled, nothing fetched from elsewhere). The canvas says nothing to a screen
 * reader: the figure's caption is its text alternative, and the table after it
 * holds every value.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { By, ChartData, Measure } from './savings-data';
import { formatMeasure, MEASURES, periodLabel } from './savings-data';

/** Colours at 3:1 or more against white, told apart without red-green. */
export const PALETTE = [
  '#0b5cad',
  '#c2410c',
  '#047857',
  '#a21caf',
  '#854d0e',
  '#475569',
  '#be123c',
  '#0e7490',
];
const HEIGHT = 280;

export function SavingsChart({
  data,
  measure,
  by,
  zone,
  caption,
}: {
  data: ChartData;
  measure: Measure;
  by: By;
  zone: string;
  caption: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = box.current;
    if (element === null) return;
    const unit = MEASURES.find((m) => m.key === measure)!.unit;
    // Stacked: series k is drawn at the sum of series 0..k; the legend shows its own value.
    const stacked: number[][] = [];
    data.series.forEach((s, k) => {
      stacked.push(s.values.map((v, i) => v + (k === 0 ? 0 : stacked[k - 1]![i]!)));
    });
    // The top of the stack first, so the lower bars are drawn over it.
    const order = data.series.map((_, k) => k).reverse();
    // Each bar from its period's start across most of the period, the last one whole.
    const bars = uPlot.paths.bars!({ size: [0.8, 64], align: 1 });
    const period = (by === 'day' ? 1 : by === 'week' ? 7 : 31) * 86_400;
    const starts = data.starts.map((s) => s / 1000);
    const plot = new uPlot(
      {
        width: Math.max(element.clientWidth, 280),
        height: HEIGHT,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), zone),
        scales: {
          x: { time: true, range: (_u, min, max) => [min - period * 0.1, max + period] },
          y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
        },
        cursor: { drag: { x: false, y: false } },
        axes: [
          {
            label: `Period start (${zone})`,
            stroke: '#1d2329',
            grid: { stroke: '#dde1e5' },
            // Weeks and months: a tick at each period's start.
            ...(by === 'day' ? {} : { splits: () => starts }),
          },
          {
            label: unit,
            stroke: '#1d2329',
            grid: { stroke: '#dde1e5' },
            size: 72,
            values: (_u, splits) => splits.map((v) => formatMeasure(measure, v)),
          },
        ],
        series: [
          {
            label: `Period (${zone})`,
            value: (_u, v) => (Number.isFinite(v) ? periodLabel(v * 1000, by, zone) : '—'),
          },
          ...order.map((k) => ({
            label: data.series[k]!.label,
            stroke: PALETTE[k % PALETTE.length]!,
            fill: PALETTE[k % PALETTE.length]!,
            width: 1,
            paths: bars,
            points: { show: false },
            value: (_u: uPlot, _v: number | null, _s: number, i: number | null) =>
              i === null ? '—' : formatMeasure(measure, data.series[k]!.values[i] ?? 0),
          })),
        ],
      },
      [starts, ...order.map((k) => stacked[k]!)],
      element,
    );
    const resize = new ResizeObserver(() => {
      plot.setSize({ width: Math.max(element.clientWidth, 280), height: HEIGHT });
    });
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [data, measure, by, zone]);
  return (
    <figure class="savings-chart" aria-labelledby="savings-chart-caption">
      <div ref={box} data-chart="savings" />
      <figcaption id="savings-chart-caption">{caption}</figcaption>
    </figure>
  );
}
