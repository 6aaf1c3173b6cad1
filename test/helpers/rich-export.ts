/**
 * A published export holding every kind of row a reader of the export must get right: readings with and without a
 * depth (temperature has none), probe versions opened, closed and still open (a re-calibration and a rename two
 * days into the account's history), JSON columns, a reading offered twice with different values (a conflict) and an
 * authentic push that could not be used (kept verbatim). It is an incremental publish: the snapshot the version
 * before it held, copied and patched, and Parquet partly linked to that version's. The stack stays up so that a test can compare the export
 * with the live warehouse; the caller stops it.
 */
import { publish, type PublishReport } from '../../src/export/publish.js';
import { runJob } from '../../src/job-runtime/runner.js';
import { createLogger } from '../../src/logger.js';
import { sendPushes, uplinksFor } from '../../src/simulator/index.js';
import { NOW } from './account.js';
import { post, PUSH_SECRET, startStack, type Stack } from './stack.js';

const DAY = 86_400_000;

export interface RichExport {
  stack: Stack;
  report: PublishReport; // report.path: the published version's folder
}

export async function richExport(env: Record<string, string> = {}): Promise<RichExport> {
  const start = new Date(NOW.getTime() - 2 * DAY);
  const changed = new Date(NOW.getTime() - DAY);
  const stack = await startStack({ now: start, env });
  try {
    const job = async (name: string): Promise<void> => {
      const run = await runJob(name, {}, stack.worker.deps, { trigger: 'command' });
      if (run.status !== 'succeeded') throw new Error(`${name}: ${run.status} (${run.error ?? ''})`);
    };
    const pushWindow = async (from: Date, to: Date): Promise<void> => {
      const sent = await sendPushes(uplinksFor(stack.sim.account, { from, to }), {
        url: stack.pushUrl,
        secret: PUSH_SECRET,
        uplinksPerRequest: 20,
      });
      if (Object.keys(sent.statuses).join() !== '202')
        throw new Error(`pushes answered ${JSON.stringify(sent.statuses)}`);
    };
    for (const name of ['sync-parameters', 'sync-locations', 'sync-customers', 'sync-probes']) await job(name);
    await pushWindow(start, changed);
    const { config } = stack.place;
    const publishNow = (): Promise<PublishReport> =>
      publish(stack.worker.deps.db, config.exportDir, 3, createLogger('silent'), {
        fileMode: config.exportFileMode,
        parquetCompression: config.exportParquetCompression,
      });
    // a first version: the one returned is then built on it, as every publish after the first is
    await publishNow();

    const [first, second] = stack.sim.account.probes;
    stack.sim.recalibrateProbe(first!.serial, [
      { depth: 0, soil: 'LOAM' },
      { depth: 30, soil: 'CLAY' },
    ]);
    stack.sim.renameProbe(second!.serial, 'Renamed, with a comma and "quotes"');
    stack.setClock(changed);
    await job('sync-probes');
    stack.setClock(NOW);
    await pushWindow(changed, NOW);

    // the same reading offered again with another value: stored once, the other value kept as a conflict
    const [kept] = await stack.rows(
      `SELECT serial, type, depth_cm, ts, value, unit FROM readings WHERE depth_cm IS NOT NULL ORDER BY ts, serial LIMIT 1`,
    );
    const offered = {
      type: kept!.type,
      depth: kept!.depth_cm,
      value: Number(kept!.value) + 1.5,
      unit: kept!.unit,
      timestamp: (kept!.ts as Date).toISOString(),
    };
    expectAccepted(await post(stack.pushUrl, JSON.stringify([{ serial: kept!.serial, readings: [offered] }])));
    // authentic, but nothing in it can be used: kept verbatim in rejected_pushes
    expectAccepted(await post(stack.pushUrl, JSON.stringify([{ serial: 'bad!', readings: [] }])));
    await stack.drained();
    return { stack, report: await publishNow() };
  } catch (err) {
    await stack.stop();
    throw err;
  }
}

function expectAccepted(answer: { status: number; body: unknown }): void {
  if (answer.status !== 202) throw new Error(`push answered ${answer.status}: ${JSON.stringify(answer.body)}`);
}
