/** The chart's page geometry and colours, shared by its panels and markers. */

/** Colours of the series and markers; the HTML legend uses the same. */
export const COLORS = {
  remaining: '#2563eb',
  processed: '#16a34a',
  total: '#64748b',
  rate: '#ea580c',
  dirty: '#dc2626',
  requests: '#7c3aed',
  postcopy: '#ede9fe',
  switch: '#7c3aed',
  iteration: '#94a3b8',
  downtime: '#e11d48',
  failure: '#b91c1c',
  abort: '#b91c1c',
  detached: '#d97706',
  note: '#475569',
  grid: '#e2e8f0',
  axis: '#334155',
} as const;

export const W = 1000;
export const LEFT = 78;
export const RIGHT = 24;
export const PLOT_W = W - LEFT - RIGHT;
export const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
