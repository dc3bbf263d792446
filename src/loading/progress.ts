/**
 * Download progress: the event type handed to `onProgress`, and a small progress bar written to
 * stderr (redrawn in place on a terminal; a few plain lines elsewhere, e.g. in a notebook, whose
 * stderr is not a TTY).
 */

/** One progress report for one file. */
export interface DownloadProgress {
  /** The file being downloaded (its name in the repository). */
  file: string;
  /** Bytes received so far. */
  loaded: number;
  /** Total bytes when the server said (Content-Length), else undefined. */
  total: number | undefined;
  /** Average rate since the download started, bytes per second. */
  bytesPerSecond: number;
  /** True on the last report for this file (sent once, after the last byte). */
  done: boolean;
}

export type ProgressCallback = (progress: DownloadProgress) => void;

/** "1.5 MB", "512 B" (powers of 1000, like most download tools). */
export function formatBytes(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}

/** One line: "model.safetensors  42% [#######.........] 210 MB / 500 MB  12.3 MB/s". */
export function formatProgressLine(p: DownloadProgress, barWidth = 24): string {
  const rate = `${formatBytes(p.bytesPerSecond)}/s`;
  if (p.total === undefined || p.total <= 0) {
    return `${p.file}  ${formatBytes(p.loaded)}  ${rate}${p.done ? "  done" : ""}`;
  }
  const fraction = Math.min(1, p.loaded / p.total);
  const filled = Math.round(fraction * barWidth);
  const bar = "#".repeat(filled) + ".".repeat(barWidth - filled);
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  return `${p.file} ${percent} [${bar}] ${formatBytes(p.loaded)} / ${formatBytes(p.total)}  ${rate}`;
}

/** Where the bar is written: anything with write (and, for terminals, isTTY/columns). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/**
 * A progress callback that draws a bar on `stream` (stderr by default). On a TTY the line is
 * redrawn at most every `intervalMs`; otherwise a line is printed at 0, 25, 50, 75 and 100%
 * (or every 100 MB when the size is unknown) so logs stay short.
 */
export function terminalProgress(stream: ProgressStream = process.stderr, intervalMs = 100): ProgressCallback {
  const lastDraw = new Map<string, number>();
  const lastStep = new Map<string, number>();
  return (p) => {
    if (stream.isTTY) {
      const now = Date.now();
      if (!p.done && now - (lastDraw.get(p.file) ?? 0) < intervalMs) return;
      lastDraw.set(p.file, now);
      let line = formatProgressLine(p);
      const columns = stream.columns ?? 0;
      if (columns > 1 && line.length >= columns) line = line.slice(0, columns - 1);
      // \r returns to the line start; \x1b[K clears what a longer previous line left.
      stream.write(`\r${line}\x1b[K${p.done ? "\n" : ""}`);
      if (p.done) lastDraw.delete(p.file);
      return;
    }
    const step = p.total !== undefined && p.total > 0 ? Math.floor((4 * p.loaded) / p.total) : Math.floor(p.loaded / 1e8);
    const previous = lastStep.get(p.file);
    if (p.done || previous === undefined || step > previous) {
      lastStep.set(p.file, step);
      // formatProgressLine already says "done" when the size is unknown.
      stream.write(formatProgressLine(p) + (p.done && p.total !== undefined ? "  done" : "") + "\n");
      if (p.done) lastStep.delete(p.file);
    }
  };
}
