/**
 * A progress bar on stderr (stdout stays clean for the answer). On a terminal it redraws one line; in a pipe or a
 * log it prints a line at every tenth of the way.
 */
export class ProgressBar {
  private lastTenth = -1;

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  update(done: number, total: number): void {
    const share = total === 0 ? 1 : done / total;
    const text = `${this.label} ${bar(share)} ${done}/${total} (${Math.floor(share * 100)}%)`;
    if (this.stream.isTTY) {
      this.stream.write(`\r${text}`);
      if (done >= total) this.stream.write('\n');
      return;
    }
    const tenth = Math.floor(share * 10);
    if (tenth > this.lastTenth) {
      this.lastTenth = tenth;
      this.stream.write(`${text}\n`);
    }
  }
}

function bar(share: number, width = 30): string {
  const full = Math.round(share * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}]`;
}
