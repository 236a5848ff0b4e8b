import AxeBuilder from '@axe-core/playwright';
import { expect, type Page } from '@playwright/test';
import {
  PASSWORD,
  logIn,
  newPage,
  openDirect,
  send,
  test,
  uniqueName,
} from './helpers';

/** Every WCAG 2.x A/AA rule and axe's best practices, on the whole page. */
async function audit(page: Page, screen: string): Promise<void> {
  // Let transitions settle so colours are measured as shown.
  await page.waitForTimeout(300);
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'])
    .analyze();
  const found = results.violations.map((v) => ({
    rule: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.slice(0, 3).map((n) => `${n.target.join(' ')}: ${n.failureSummary ?? ''}`),
  }));
  expect(found, `axe violations on ${screen}`).toEqual([]);
}

for (const colorScheme of ['light', 'dark'] as const) {
  test.describe(`${colorScheme} theme`, () => {
    test.use({ colorScheme });

    test('the login screen, with and without an error, has no axe violations', async ({ browser }) => {
      const page = await newPage(browser, { colorScheme });
      await page.goto('/');
      await expect(page.getByRole('button', { name: 'Log in' })).toBeVisible();
      await audit(page, `login (${colorScheme})`);
      const name = uniqueName('ax');
      await logIn(browser, name, { colorScheme });
      await page.getByLabel('Username', { exact: true }).fill(name);
      await page.getByLabel('Password', { exact: true }).fill(`not ${PASSWORD}`);
      await page.getByRole('button', { name: 'Log in' }).click();
      await expect(page.getByRole('alert')).toBeVisible();
      await audit(page, `login error (${colorScheme})`);
    });

    test('the chat screens and panels have no axe violations', async ({ browser }) => {
      const alice = uniqueName('axa');
      const bob = uniqueName('axb');
      const alicePage = await logIn(browser, alice, { colorScheme });
      const bobPage = await logIn(browser, bob, { colorScheme });
      await send(alicePage, `hello https://example.com from ${alice}`);
      await send(bobPage, `hi ${bob}`);
      await audit(alicePage, `General (${colorScheme})`);

      await alicePage.locator('button[aria-controls="account-panel"]').click();
      await audit(alicePage, `account panel (${colorScheme})`);
      await alicePage.locator('button[aria-controls="account-panel"]').click();

      await alicePage.getByRole('button', { name: 'New room' }).click();
      await audit(alicePage, `new room form (${colorScheme})`);
      await alicePage.getByRole('button', { name: 'New room' }).click();
      await alicePage.getByRole('button', { name: 'Browse rooms' }).click();
      await audit(alicePage, `room browser (${colorScheme})`);
      await alicePage.getByRole('button', { name: 'Browse rooms' }).click();

      await alicePage.getByRole('button', { name: /members?$/ }).click();
      await audit(alicePage, `members panel (${colorScheme})`);
      await alicePage.getByRole('button', { name: /members?$/ }).click();

      await openDirect(alicePage, bob);
      await send(alicePage, `direct ${alice}`);
      await audit(alicePage, `direct chat (${colorScheme})`);

      // The phone layout with its chat drawer open.
      await alicePage.setViewportSize({ width: 390, height: 844 });
      await audit(alicePage, `phone chat (${colorScheme})`);
      await alicePage.getByRole('button', { name: /chats/i }).first().click();
      await audit(alicePage, `phone drawer (${colorScheme})`);
    });
  });
}
