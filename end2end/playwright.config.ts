import { defineConfig } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The runner script picks a free port; 18080 when run by hand.
const port = Number(process.env.PARLOR_E2E_PORT ?? 18080);
const baseURL = `http://127.0.0.1:${port}`;

// A fresh data directory per run. Set once in the environment so that the worker
// processes, which load this file again, see the same value instead of making new ones.
process.env.PARLOR_E2E_DATA ??= mkdtempSync(join(tmpdir(), 'parlor-e2e-'));
const dataDir = process.env.PARLOR_E2E_DATA;
// The release binary with the web app embedded; PARLOR_BIN overrides the default.
const bin = process.env.PARLOR_BIN ?? '../target/release/parlor';

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  use: {
    baseURL,
    headless: true,
    trace: 'retain-on-failure',
    launchOptions: {
      // Debian's Chromium: Playwright's own browser downloads are not reachable here.
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
  webServer: {
    // The real release binary, with the web app embedded in it.
    command: `${bin} serve --bind 127.0.0.1:${port} --data ${dataDir}`,
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 30_000,
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
