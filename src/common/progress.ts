// Progress for long work: a line rewritten in place on a terminal (a periodic line otherwise),
// with rate and ETA. Writes to stderr so stdout stays clean for --json results.

export class Progress {
  private start = performance.now();
  private lastDraw = 0;
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(private readonly label: string, private readonly total: number, private readonly unit = '', private readonly everyMs = 2000) {}

  /** Report `done` units finished; draws at most every 100 ms on a terminal, every `everyMs` otherwise. */
  update(done: number, extra = ''): void {
    const now = performance.now();
    if (now - this.lastDraw < (this.tty ? 100 : this.everyMs) && done < this.total) return;
    this.lastDraw = now;
    const secs = (now - this.start) / 1000;
    const rate = done / Math.max(secs, 1e-9);
    const eta = rate > 0 && this.total > 0 ? (this.total - done) / rate : 0;
    const pct = this.total > 0 ? ((100 * done) / this.total).toFixed(1) : '?';
    const line = `${this.label} ${pct}% ${fmt(done)}/${fmt(this.total)}${this.unit} | ${fmt(rate)}${this.unit}/s | ${formatDuration(secs)} elapsed, ETA ${formatDuration(eta)}${extra ? ' | ' + extra : ''}`;
    if (this.tty) process.stderr.write(`\r\x1b[2K${line}`);
    else process.stderr.write(line + '\n');
  }

  /** Final line (always printed). */
  done(extra = ''): void {
    const secs = (performance.now() - this.start) / 1000;
    const line = `${this.label} done in ${formatDuration(secs)}${extra ? ' | ' + extra : ''}`;
    process.stderr.write(this.tty ? `\r\x1b[2K${line}\n` : line + '\n');
  }
}

function fmt(x: number): string {
  if (x >= 1e9) return (x / 1e9).toFixed(2) + 'G';
  if (x >= 1e6) return (x / 1e6).toFixed(2) + 'M';
  if (x >= 1e4) return (x / 1e3).toFixed(1) + 'k';
  return Number.isInteger(x) ? String(x) : x.toFixed(1);
}

export function formatDuration(secs: number): string {
  if (!Number.isFinite(secs)) return '?';
  if (secs < 60) return `${secs.toFixed(1)}s`;
  const m = Math.floor(secs / 60), s = Math.round(secs % 60);
  if (m < 60) return `${m}m${String(s).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
