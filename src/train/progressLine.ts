/**
 * The one-line text form of training progress, for terminals (plain Node, no notebook):
 *   [########------------]  40/100  loss 0.4121  accuracy 0.8125  12.0s, eta 18.0s
 */

/** Seconds as "12.3s", "4m05s" or "1h02m". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const s = Math.floor(seconds);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** A metric value in 4 significant digits (exponent form when very small or large). */
export function formatMetric(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  const a = Math.abs(value);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? value.toExponential(3) : String(Number(value.toPrecision(4)));
}

export interface ProgressLineFacts {
  step: number;
  /** 0 when unknown. */
  total: number;
  latest: Record<string, number | null>;
  elapsed: number;
  eta: number | null;
  status: string;
}

export function progressLine(facts: ProgressLineFacts, width = 20): string {
  const fraction = facts.total > 0 ? Math.min(1, Math.max(0, facts.step / facts.total)) : 0;
  const filled = Math.round(fraction * width);
  const bar = facts.total > 0 ? `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ` : "";
  const count = facts.total > 0 ? `${String(facts.step).padStart(String(facts.total).length)}/${facts.total}` : `step ${facts.step}`;
  const metrics = Object.entries(facts.latest).map(([name, value]) => `${name} ${formatMetric(value)}`);
  const time = facts.status === "running" ? `${formatDuration(facts.elapsed)}${facts.eta !== null ? `, eta ${formatDuration(facts.eta)}` : ""}` : `${facts.status} in ${formatDuration(facts.elapsed)}`;
  return [bar + count, ...metrics, time].join("  ");
}
