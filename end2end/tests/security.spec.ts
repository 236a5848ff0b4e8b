import { expect } from '@playwright/test';
import { PASSWORD, expectOnline, logIn, messageItem, newPage, send, test, uniqueName } from './helpers';

// The app runs under the server's Content-Security-Policy: loading it, logging in and
// sending a message report no violation, neither as an event nor on the console.
test('the app runs under its Content-Security-Policy without violations', async ({ browser }) => {
  const page = await newPage(browser);
  const console: string[] = [];
  page.on('console', (m) => console.push(m.text()));
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (e) =>
      seen.push(`${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  const response = await page.goto('/');
  const csp = response?.headers()['content-security-policy'] ?? '';
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("'wasm-unsafe-eval'");

  const name = uniqueName('csp');
  await page.getByLabel('Username', { exact: true }).fill(name);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('heading', { name: 'General', level: 1 })).toBeVisible();
  await expectOnline(page);
  await send(page, `hello under CSP from ${name}`);
  await expect(messageItem(page, name, `hello under CSP from ${name}`)).toHaveCount(1);

  const violations = await page.evaluate(
    () => (window as unknown as { cspViolations: string[] }).cspViolations,
  );
  expect(violations).toEqual([]);
  expect(console.filter((t) => /Content Security Policy|securitypolicyviolation/i.test(t))).toEqual([]);
});

// An image attachment that points at another server is a link: the viewer's browser
// never requests it (no tracking pixel, no request to another device on the LAN).
test('an external image URL is shown as a link and never loaded', async ({ browser }) => {
  const alice = uniqueName('xa');
  const bob = uniqueName('xb');
  const bobPage = await logIn(browser, bob);
  const requested: string[] = [];
  bobPage.on('request', (r) => {
    if (r.url().includes('tracker.invalid')) requested.push(r.url());
  });

  // Alice posts with her own client, as any program could.
  const alicePage = await newPage(browser);
  await alicePage.goto('/');
  const answer = await alicePage.evaluate(
    async ({ name, password }) => {
      const ws = new WebSocket(`ws://${location.host}/ws`);
      const replies: Record<string, unknown>[] = [];
      const next = () =>
        new Promise<Record<string, unknown>>((resolve) => {
          ws.onmessage = (e) => resolve(JSON.parse(e.data));
        });
      await new Promise((resolve) => (ws.onopen = resolve));
      const request = (id: string, payloadType: string, payload: unknown) =>
        ws.send(JSON.stringify({ type: 'request', id, timestamp: Date.now(), payloadType, payload }));
      request('a', 'auth', { username: name, password });
      replies.push(await next());
      request('n', 'new', {
        chatId: '#General',
        message: `pixel from ${name}`,
        attachments: [
          { type: 'image', id: 'p1', filename: 'pixel.gif', url: 'http://tracker.invalid/pixel.gif', meta: { mimetype: 'image/gif' } },
          { type: 'image', id: 'p2', filename: 'lan.png', url: 'http://192.168.1.1/lan.png', meta: { mimetype: 'image/png' } },
        ],
      });
      replies.push(await next());
      ws.close();
      return replies;
    },
    { name: alice, password: PASSWORD },
  );
  expect(answer[1]).toHaveProperty('payload.messageId');

  const item = messageItem(bobPage, alice, `pixel from ${alice}`);
  await expect(item).toHaveCount(1);
  await expect(item.locator('img')).toHaveCount(0);
  const link = item.getByRole('link', { name: 'pixel.gif (external image)' });
  await expect(link).toHaveAttribute('href', 'http://tracker.invalid/pixel.gif');
  await expect(item.getByRole('link', { name: 'lan.png (external image)' })).toBeVisible();
  await bobPage.waitForTimeout(500);
  expect(requested).toEqual([]);
});
