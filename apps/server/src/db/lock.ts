import fs from 'node:fs';
import path from 'node:path';

/**
 * PGlite can be opened by one process only; a second opener corrupts the data directory. This
 * pid file makes a second process (or a CLI command while the server runs) stop with a clear message.
 */
export function acquireEmbeddedLock(dataDir: string): () => void {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'atelier.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        try {
          if (fs.readFileSync(file, 'utf8') === String(process.pid)) fs.rmSync(file);
        } catch {
          /* already gone */
        }
      };
      process.once('exit', release);
      return release;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number(fs.readFileSync(file, 'utf8'));
      if (pid && pid !== process.pid && isAlive(pid)) {
        throw new Error(
          `Atelier (pid ${pid}) is already using the embedded database in ${dataDir}. ` +
            'Stop it first, or run commands against it through a PostgreSQL server (set DATABASE_URL) so that several processes can share it.',
        );
      }
      fs.rmSync(file, { force: true }); // stale: that process is gone
    }
  }
  throw new Error(`Could not lock ${file}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
