/**
 * Issue 15 item 8 on real processes: `hpo predict` refuses a small PNG declaring a huge image from its
 * header, before decoding it; `hpo worker` builds only the data seeds its operator allows (a trial of
 * another seed is refused and re-queued, and no data file is written for it).
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDeflate, crc32 } from 'node:zlib';
import { NatsTransport } from '../orchestrator/transport/nats/index.js';
import { PROTOCOL_VERSION, type TrialSpec } from '../shared/protocol/index.js';
import { connectNats } from '../worker/nats/index.js';
import { Recorder } from './contracts/transport.contract.js';
import { runHpo, startHpo } from './helpers/cli.js';
import { type NatsServerHandle, startNatsServer } from './helpers/nats-server.js';
import { silentLogger } from '../shared/log/index.js';
import { workerArgs } from './helpers/spawn-worker.js';

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * A valid grayscale PNG of width x height black pixels: every row is a filter byte and zeros, which
 * deflate squeezes about 1000:1 (20000x20000 is a ~390 KB file that decodes to 400 MB, 1.6 GB as RGBA).
 */
async function pngBomb(width: number, height: number): Promise<Buffer> {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // grayscale
  const deflate = createDeflate({ level: 9 });
  const parts: Buffer[] = [];
  deflate.on('data', (d: Buffer) => parts.push(d));
  const ended = new Promise((resolve) => deflate.on('end', resolve));
  const rows = Buffer.alloc((width + 1) * 1000); // 1000 rows at a time
  for (let y = 0; y < height; y += 1000) {
    if (!deflate.write(rows)) await new Promise((r) => deflate.once('drain', r));
  }
  deflate.end();
  await ended;
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    signature,
    chunk('IHDR', ihdr),
    chunk('IDAT', Buffer.concat(parts)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

async function until(what: string, check: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('resource bombs are refused (real hpo processes, real nats-server)', function () {
  this.timeout(240_000);
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hpo-limits-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('hpo predict refuses a small PNG declaring 20000x20000 from its header, before decoding it', async () => {
    const png = join(dir, 'bomb.png');
    await writeFile(png, await pngBomb(20_000, 20_000));
    assert.ok((await stat(png)).size < 500_000, `the bomb is small: ${(await stat(png)).size} bytes`);
    // The model folder does not even need to exist: the image is checked first.
    const r = await runHpo(['predict', join(dir, 'no-model'), png, '--backend', 'cpu']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /bomb\.png: expected a 28x42 \(width x height\) grayscale PNG, but it is 20000x20000 \(width x height\)/,
    );
  });

  describe('hpo worker --data-seeds', () => {
    let server: NatsServerHandle;
    const children: ChildProcess[] = [];
    before(async () => {
      server = await startNatsServer();
    });
    after(async () => {
      for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
      await server.stop();
    });

    it('a trial with a data seed the worker does not allow is refused and re-queued; no data file is built', async () => {
      const dataDir = join(dir, 'worker-data');
      const worker = startHpo(workerArgs(server.url, 'seeds', { concurrency: 1 }), { HPO_DATA_DIR: dataDir });
      children.push(worker);
      let log = '';
      worker.stderr!.on('data', (d) => (log += d));
      await until('the worker to start', () => /hpo worker seeds: .*data seeds 1,/.test(log));

      const nc = await connectNats({ servers: [server.url], name: 'test orchestrator' });
      const transport = new NatsTransport(nc, { logger: silentLogger() });
      await transport.start(new Recorder());
      const spec: TrialSpec = {
        v: PROTOCOL_VERSION,
        experiment: 'seeds',
        experiment_id: 'seeds',
        trial_id: 't0000',
        attempt: 1,
        task: 'multi-digit-mnist',
        params: { arch: 'mlp', epochs: 1, batch_size: 64, learning_rate: 0.01 },
        seed: 1,
        data: { seed: 7, sha256: 'f'.repeat(64) },
      };
      await transport.submit(spec);
      try {
        await until('the refusal', () => /refusing trials: data seed 7 is not allowed/.test(log));
        assert.match(log, /data seed 7 is not allowed on this worker \(--data-seeds 1\)/);
        const files = await readdir(dataDir).catch(() => [] as string[]);
        assert.deepEqual(
          files.filter((f) => f.includes('-s7')),
          [],
          `the worker built seed 7: ${files.join(', ')}`,
        );
      } finally {
        await transport.cancel('seeds');
        await transport.close();
      }
    });

    it('--data-seeds rejects a malformed list (exit 2)', async () => {
      const r = await runHpo(['worker', '--nats', server.url, '--data-seeds', '1,,x']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /--data-seeds/);
    });
  });
});
