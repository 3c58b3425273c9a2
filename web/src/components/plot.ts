// Mounting a uPlot chart the way every History chart does: double-click resets the zoom, the chart follows its
// box's width, and one cleanup takes it all down.

import uPlot from "uplot";

/** Mount a chart in `el` (kept in `plot` while it lives): double-click calls `onReset`, the width follows `el`
 * (at least 200 px) at `height`. Returns the effect's cleanup. */
export function mountPlot(
  opts: uPlot.Options,
  data: uPlot.AlignedData,
  el: HTMLElement,
  height: number,
  plot: { current: uPlot | null },
  onReset: () => void,
): () => void {
  const p = new uPlot(opts, data, el);
  plot.current = p;
  p.over.addEventListener("dblclick", onReset);
  const ro = new ResizeObserver(() => p.setSize({ width: Math.max(200, el.clientWidth), height }));
  ro.observe(el);
  return () => {
    ro.disconnect();
    p.over.removeEventListener("dblclick", onReset);
    p.destroy();
    plot.current = null;
  };
}
