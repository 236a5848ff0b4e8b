import { expect, type Page } from '@playwright/test';
import { OwnServer } from './own-server';
import { PASSWORD, expectOnline, newPage, signInAt, test } from './helpers';

// The installable app: its manifest and icons, the service worker that keeps the app
// shell, and starting without the network. Servers of their own: one test stops its
// server to cut the network for real.

/** Waits until the service worker is active and controls the page. */
async function controlled(page: Page): Promise<void> {
  await page.evaluate(() => navigator.serviceWorker.ready);
  await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
}

test('the page links a manifest with icons of 192 and 512 pixels', async ({ browser }) => {
  const server = await OwnServer.start();
  try {
    const page = await newPage(browser);
    await page.goto(server.url);
    const href = await page.locator('link[rel="manifest"]').getAttribute('href');
    expect(href).toBeTruthy();
    const answer = await page.request.get(new URL(href ?? '', server.url).toString());
    expect(answer.ok()).toBe(true);
    expect(answer.headers()['content-type']).toContain('application/manifest+json');
    const manifest = await answer.json();
    expect(manifest.name).toBe('Parlor');
    expect(manifest.display).toBe('standalone');
    expect(manifest.start_url).toBe('/');
    const icons: { src: string; sizes: string; type: string; purpose?: string }[] = manifest.icons;
    for (const size of ['192x192', '512x512']) {
      const icon = icons.find((i) => i.sizes === size && i.type === 'image/png' && i.purpose !== 'maskable');
      expect(icon, `an icon of ${size}`).toBeTruthy();
      const png = await page.request.get(new URL(icon?.src ?? '', server.url).toString());
      expect(png.ok()).toBe(true);
      const body = await png.body();
      // The PNG's own header says its size: width and height at bytes 16 and 20.
      const [w, h] = size.split('x').map(Number);
      expect([body.readUInt32BE(16), body.readUInt32BE(20)]).toEqual([w, h]);
    }
    expect(icons.some((i) => i.purpose === 'maskable')).toBe(true);
  } finally {
    await server.stop();
  }
});

test('the service worker controls the page after a reload, and the app starts without the network', async ({
  browser,
}) => {
  test.setTimeout(60_000);
  const server = await OwnServer.start();
  let stopped = false;
  try {
    const page = await signInAt(browser, server.url, 'nomad');
    await controlled(page);
    await page.reload();
    await expect(page.getByRole('heading', { name: 'General', level: 1 })).toBeVisible();
    expect(await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL)).toBe(
      `${server.url}/sw.js`,
    );
    // Nothing private in the cache: the shell only.
    const kept: string[] = await page.evaluate(async () => {
      const urls: string[] = [];
      for (const name of await caches.keys()) {
        for (const r of await (await caches.open(name)).keys()) urls.push(new URL(r.url).pathname);
      }
      return urls;
    });
    expect(kept).toContain('/');
    expect(kept.some((p) => p.endsWith('.wasm'))).toBe(true);
    expect(kept.filter((p) => /^\/(api|ws|uploads)/.test(p))).toEqual([]);

    // The network cut: the browser offline, and the server gone.
    await server.stop();
    stopped = true;
    await page.context().setOffline(true);
    await page.reload();
    await expect(page.getByRole('heading', { name: 'General', level: 1 })).toBeVisible();
    await expect(page.locator('.banner')).toContainText('You are offline');
    await page.context().setOffline(false);
  } finally {
    if (!stopped) await server.stop();
  }
});

test('a notification link opens its chat', async ({ browser }) => {
  const server = await OwnServer.start();
  try {
    const page = await signInAt(browser, server.url, 'rita');
    await signInAt(browser, server.url, 'sam');
    await page.goto(`${server.url}/?chat=sam`);
    await expect(page.getByRole('heading', { name: 'sam', level: 1 })).toBeVisible();
    // The address bar no longer names the chat: a reload keeps the chat open, not the link.
    expect(new URL(page.url()).search).toBe('');
  } finally {
    await server.stop();
  }
});

test('this device: push needs the permission, and ntfy shows a topic the server knows', async ({ browser }) => {
  const server = await OwnServer.start();
  try {
    const page = await signInAt(browser, server.url, 'pia');
    await page.getByRole('button', { name: 'Account', exact: true }).click();
    const device = page.getByRole('region', { name: 'This device' });
    await expect(device).toBeVisible();
    // 127.0.0.1 is a secure context: the box is offered. Notifications are not allowed
    // in this browser, so turning it on says so and leaves it off.
    const box = device.getByLabel('Notify me here when Parlor is closed');
    await box.click();
    await expect(device.getByRole('alert')).toContainText('Notifications are blocked');
    await expect(box).not.toBeChecked();

    await device.getByRole('button', { name: 'Android without internet: use ntfy' }).click();
    const server_ = device.locator('code').nth(0);
    const topic = device.locator('code').nth(1);
    await expect(server_).toHaveText(`${server.url}/ntfy`);
    const first = (await topic.textContent()) ?? '';
    expect(first).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    const poll = await page.request.get(`${server.url}/ntfy/${first}/json?poll=1`);
    expect(poll.status()).toBe(200);
    // A new topic: the old one is gone at once.
    await device.getByRole('button', { name: 'Make a new topic' }).click();
    await expect(topic).not.toHaveText(first);
    expect((await page.request.get(`${server.url}/ntfy/${first}/json?poll=1`)).status()).toBe(404);
  } finally {
    await server.stop();
  }
});

// Screenshots for docs/phones.md: `PARLOR_SCREENSHOTS=1 npx playwright test pwa`.
test.describe('screenshots', () => {
  test.skip(!process.env.PARLOR_SCREENSHOTS, 'set PARLOR_SCREENSHOTS=1 to make the docs screenshots');

  test('the app on a phone, offline, and its device settings', async ({ browser }) => {
    test.setTimeout(90_000);
    const out = (file: string) => `${__dirname}/../../docs/screenshots/${file}`;
    const server = await OwnServer.start();
    let stopped = false;
    try {
      const context = await browser.newContext({
        viewport: { width: 390, height: 844 },
        deviceScaleFactor: 2,
        isMobile: true,
        hasTouch: true,
      });
      const page = await context.newPage();
      await page.goto(server.url);
      await page.getByLabel('Username', { exact: true }).fill('maya');
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: 'Log in' }).click();
      await expectOnline(page);
      await page.getByLabel('Message', { exact: true }).fill('Dinner at seven, bring the board games!');
      await page.getByLabel('Message', { exact: true }).press('Enter');
      await controlled(page);
      await page.getByRole('button', { name: /^Chats/ }).click();
      await page.getByRole('button', { name: 'Account', exact: true }).click();
      const device = page.getByRole('region', { name: 'This device' });
      await device.getByRole('button', { name: 'Android without internet: use ntfy' }).click();
      await expect(device.locator('code')).toHaveCount(2);
      await device.scrollIntoViewIfNeeded();
      await device.screenshot({ path: out('phone-device-light.png') });
      await server.stop();
      stopped = true;
      await context.setOffline(true);
      await page.reload();
      await expect(page.locator('.banner')).toContainText('You are offline');
      await page.screenshot({ path: out('phone-offline-light.png') });
      await context.close();
    } finally {
      if (!stopped) await server.stop();
    }
  });
});
