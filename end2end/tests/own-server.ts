import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A Parlor of a test's own, on a fresh data directory and a port of its own: for the
 * tests that change the whole server (its registration mode, its owner), which the
 * shared server of the other specs must not see. */
export class OwnServer {
  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
    private readonly data: string,
  ) {}

  static async start(args: string[] = []): Promise<OwnServer> {
    const port = await freePort();
    const data = mkdtempSync(join(tmpdir(), 'parlor-own-'));
    const bin = process.env.PARLOR_BIN ?? '../target/release/parlor';
    const child = spawn(
      bin,
      ['serve', '--bind', `127.0.0.1:${port}`, '--data', data, '--no-mdns', '--no-qr', ...args],
      { stdio: 'ignore' },
    );
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        if ((await fetch(`${url}/healthz`)).ok) break;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline || child.exitCode !== null) {
        child.kill('SIGKILL');
        throw new Error(`parlor did not start on port ${port}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return new OwnServer(url, child, data);
  }

  async stop(): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await exited;
    rmSync(this.data, { recursive: true, force: true });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}
