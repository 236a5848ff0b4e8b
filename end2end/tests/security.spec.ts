import { expect } from '@playwright/test';
import { PASSWORD, expectOnline, messageItem, newPage, send, test, uniqueName } from './helpers';

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
