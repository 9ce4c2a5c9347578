/** A progress bar on a terminal, a plain line every tenth otherwise (logs, CI, another process's pipe). */
export function progressReporter(stream: NodeJS.WriteStream) {
  const tty = stream.isTTY === true;
  let lastTenth = -1;
  return {
    update({ units, events, totalUnits, loadingMs }: { units: number; events: number; totalUnits: number; loadingMs: number }): void {
      const fraction = totalUnits === 0 ? 1 : units / totalUnits;
      const seconds = loadingMs / 1000;
      const rate = seconds > 0 ? Math.round(units / seconds) : 0;
      const eta = rate > 0 ? Math.ceil((totalUnits - units) / rate) : 0;
      const figures = `${units.toLocaleString('en')}/${totalUnits.toLocaleString('en')} units, ${events.toLocaleString('en')} events, ${rate.toLocaleString('en')} units/s`;
      if (tty) {
        const width = 30;
        const filled = Math.round(fraction * width);
        stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${figures}, ${eta}s left  `);
        if (units >= totalUnits) stream.write('\n');
        return;
      }
      const tenth = Math.floor(fraction * 10);
      if (tenth > lastTenth) {
        lastTenth = tenth;
        stream.write(`seed: ${(fraction * 100).toFixed(0)}% ${figures}\n`);
      }
    },
  };
}
