import { expect, test, chromium, type Browser, type Page } from '@playwright/test';
import { X509Certificate, createHash } from 'node:crypto';
import { join } from 'node:path';
import { audit } from './audit';
import { OwnServer } from './own-server';

// The trust page of a Parlor started with `--tls-self-signed`, opened over plain HTTP
// on the TLS port as the start-up QR code leads a phone there. Its self-test fetches
// `/trust/check` over HTTPS: a browser that does not trust Parlor's authority is told
// so, one that does is told it does and offered the HTTPS app.

let server: OwnServer;

test.beforeAll(async () => {
  server = await OwnServer.start(['--tls-self-signed']);
});

test.afterAll(async () => {
  await server?.stop();
});

/** base64 SHA-256 of the authority's SubjectPublicKeyInfo, as Chromium's
 * `--ignore-certificate-errors-spki-list` takes it. */
async function authoritySpki(): Promise<string> {
  const pem = await (await fetch(`${server.url}/trust/ca.pem`)).text();
  const spki = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/** A Chromium that trusts Parlor's authority, as a device that installed it does.
 * Chromium accepts a chain when any certificate in it (here the authority, served
 * after the server certificate) has a listed SPKI; the flag is honoured because
 * Playwright gives the browser its own `--user-data-dir`. */
async function trustingBrowser(): Promise<Browser> {
  const config = test.info().project.use.launchOptions ?? {};
  return chromium.launch({
    ...config,
    args: [...(config.args ?? []), `--ignore-certificate-errors-spki-list=${await authoritySpki()}`],
  });
}

async function openTrustPage(page: Page): Promise<void> {
  await page.goto(`${server.url}/trust`);
  await expect(page.getByRole('heading', { name: 'Trust Parlor on this device', level: 1 })).toBeVisible();
}

test('a browser that does not trust the authority is told so, with the steps', async ({ page }) => {
  await openTrustPage(page);
  await expect(page.getByText('This device does not trust Parlor yet.')).toBeVisible();
  await expect(page.getByText('This device trusts Parlor.')).toBeHidden();
  await expect(page.getByRole('link', { name: 'parlor-ca.crt' })).toHaveAttribute('href', '/trust/ca.crt');
  // The fingerprint shown is the one of the certificate offered.
  const der = Buffer.from(await (await fetch(`${server.url}/trust/ca.crt`)).arrayBuffer());
  const fingerprint = createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)!.join(':');
  await expect(page.locator('#fingerprint')).toHaveText(fingerprint);
});

test('a browser that trusts the authority is told so and sent to the HTTPS app', async () => {
  const browser = await trustingBrowser();
  try {
    const page = await browser.newPage();
    await openTrustPage(page);
    await expect(page.getByText('This device trusts Parlor.')).toBeVisible();
    await expect(page.getByText('This device does not trust Parlor yet.')).toBeHidden();
    const open = page.getByRole('link', { name: 'Open Parlor' });
    const https = server.url.replace('http://', 'https://');
    await expect(open).toHaveAttribute('href', `${https}/`);
    await open.click();
    await expect(page).toHaveURL(`${https}/`);
    await expect(page.getByLabel('Username', { exact: true })).toBeVisible();
  } finally {
    await browser.close();
  }
});

test('the app itself is not served over plain HTTP: it leads to the trust page', async ({ page }) => {
  await page.goto(`${server.url}/`);
  await expect(page).toHaveURL(`${server.url}/trust`);
});

for (const colorScheme of ['light', 'dark'] as const) {
  test(`the trust page passes the accessibility audit (${colorScheme})`, async ({ browser }) => {
    const context = await browser.newContext({ colorScheme });
    try {
      const page = await context.newPage();
      await openTrustPage(page);
      await expect(page.getByText('This device does not trust Parlor yet.')).toBeVisible();
      await page.locator('summary').click();
      await audit(page, `trust page (${colorScheme})`);
    } finally {
      await context.close();
    }
  });
}

// Screenshots for docs/phones.md: `PARLOR_SCREENSHOTS=1 npx playwright test trust`.
test.describe('screenshots', () => {
  test.skip(!process.env.PARLOR_SCREENSHOTS, 'set PARLOR_SCREENSHOTS=1 to make the docs screenshots');

  const PHONE = { width: 390, height: 844 };
  const ANDROID = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36';
  const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1';

  for (const [file, ua, colorScheme, trusted] of [
    ['trust-android-light.png', ANDROID, 'light', false],
    ['trust-iphone-dark.png', IPHONE, 'dark', false],
    ['trust-trusted-light.png', ANDROID, 'light', true],
  ] as const) {
    test(file, async ({ browser }) => {
      const owner = trusted ? await trustingBrowser() : browser;
      try {
        const context = await owner.newContext({
          colorScheme,
          userAgent: ua,
          viewport: PHONE,
          deviceScaleFactor: 2,
          isMobile: true,
          hasTouch: true,
        });
        const page = await context.newPage();
        await openTrustPage(page);
        await expect(page.locator('#check')).toHaveAttribute('data-result', trusted ? 'trusted' : 'untrusted');
        await page.screenshot({ path: join(__dirname, '..', '..', 'docs', 'screenshots', file) });
        await context.close();
      } finally {
        if (trusted) await owner.close();
      }
    });
  }
});
