import { buffer } from 'node:stream/consumers';
import yauzl from 'yauzl';

/** Every entry of a ZIP, in order, with its bytes (tests only; a real unzip library, not our code). */
export async function readZip(bytes: Buffer): Promise<{ name: string; data: Buffer }[]> {
  const zip = await yauzl.fromBufferPromise(bytes, { lazyEntries: true });
  const out: { name: string; data: Buffer }[] = [];
  for await (const entry of zip.eachEntry()) out.push({ name: entry.fileName, data: await buffer(await zip.openReadStreamPromise(entry)) });
  return out;
}
