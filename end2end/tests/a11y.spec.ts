import { expect } from '@playwright/test';
import { audit } from './audit';
import {
  PASSWORD,
  composer,
  logIn,
  messageItem,
  newPage,
  openDirect,
  send,
  test,
  uniqueName,
} from './helpers';

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
      test.setTimeout(120_000);
      const alice = uniqueName('axa');
      const bob = uniqueName('axb');
      const alicePage = await logIn(browser, alice, { colorScheme });
      const bobPage = await logIn(browser, bob, { colorScheme });
      await send(alicePage, `hello https://example.com from ${alice}`);
      await send(bobPage, `hi ${bob}`);
      await audit(alicePage, `General (${colorScheme})`);

      // The conversation features: formatting, a reply, a reaction, a pin, a file.
      const formatted = `**bold** and \`code\` from ${alice}\n\n\`\`\`rust\nfn main() {}\n\`\`\``;
      await send(alicePage, formatted);
      await messageItem(alicePage, bob, `hi ${bob}`).getByRole('button', { name: `Reply to ${bob}` }).click();
      await send(alicePage, `a reply from ${alice}`);
      const mine = messageItem(bobPage, alice, `a reply from ${alice}`);
      await mine.hover();
      await mine.getByRole('button', { name: 'React', exact: true }).click();
      await bobPage.getByRole('button', { name: 'React with 🎉 party popper' }).click();
      await expect(messageItem(alicePage, alice, `a reply from ${alice}`).getByRole('button', { name: /^🎉 1/ })).toBeVisible();
      const pinned = messageItem(alicePage, alice, `a reply from ${alice}`);
      await pinned.hover();
      await pinned.getByRole('button', { name: 'Pin', exact: true }).click();
      await alicePage.getByLabel('Attach file').setInputFiles({
        name: 'minutes.pdf',
        mimeType: 'application/pdf',
        buffer: Buffer.from('%PDF-1.4\n%%EOF\n'),
      });
      await expect(alicePage.getByRole('list', { name: 'Attachments to send' })).toContainText('minutes.pdf');
      await send(alicePage, `the minutes ${alice}`);
      await audit(alicePage, `formatting, reply, reaction, pin, file (${colorScheme})`);

      const item = messageItem(alicePage, alice, `the minutes ${alice}`);
      await item.hover();
      await item.getByRole('button', { name: 'React', exact: true }).click();
      await audit(alicePage, `quick reactions (${colorScheme})`);
      await alicePage.getByRole('button', { name: 'More emoji…' }).click();
      const picker = alicePage.getByRole('dialog', { name: 'Choose an emoji' });
      await picker.getByRole('searchbox').fill('tada');
      await expect(picker.getByRole('option').first()).toBeVisible();
      await audit(alicePage, `emoji picker (${colorScheme})`);
      await picker.getByRole('searchbox').press('Escape');

      await alicePage.getByRole('button', { name: /^Pinned \(/ }).click();
      await expect(alicePage.getByRole('dialog', { name: 'Pinned messages' })).toBeVisible();
      await audit(alicePage, `pinned messages (${colorScheme})`);
      await alicePage.getByRole('dialog', { name: 'Pinned messages' }).getByRole('button', { name: 'Close' }).click();

      const search = alicePage.getByRole('searchbox', { name: 'Search messages' });
      await search.fill('minutes');
      await search.press('Enter');
      await expect(alicePage.getByRole('region', { name: 'Search results' }).getByRole('status')).toHaveText(/found/);
      await audit(alicePage, `search results (${colorScheme})`);
      await search.fill('');

      await composer(alicePage).fill('@');
      await expect(alicePage.getByRole('listbox', { name: 'People to mention' })).toBeVisible();
      await audit(alicePage, `mention list (${colorScheme})`);
      await composer(alicePage).fill('');

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
