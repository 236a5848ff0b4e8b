import { expect } from '@playwright/test';
import { audit } from './audit';
import {
  PASSWORD,
  chatEntry,
  composer,
  logIn,
  messageItem,
  newPage,
  openDirect,
  openRoom,
  png,
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

    test('editing, replying, a deleted message, a picture and empty results have no axe violations', async ({ browser }) => {
      test.setTimeout(90_000);
      const carol = uniqueName('axc');
      const dave = uniqueName('axd');
      const carolPage = await logIn(browser, carol, { colorScheme });
      const davePage = await logIn(browser, dave, { colorScheme });
      await send(davePage, `a question from ${dave}`);
      await send(carolPage, `to be deleted ${carol}`);
      const gone = messageItem(carolPage, carol, `to be deleted ${carol}`);
      await gone.hover();
      await gone.getByRole('button', { name: 'Delete', exact: true }).click();
      await expect(messageItem(davePage, carol, 'This message was deleted.')).toHaveCount(1);
      await carolPage.getByLabel('Attach file').setInputFiles({ name: 'dot.png', mimeType: 'image/png', buffer: png(40, 30) });
      await expect(carolPage.getByRole('list', { name: 'Attachments to send' })).toContainText('dot.png');
      await send(carolPage, `a picture ${carol}`);
      await expect(messageItem(davePage, carol, `a picture ${carol}`).getByRole('img', { name: 'dot.png' })).toBeVisible();
      await audit(davePage, `a deleted message and a picture (${colorScheme})`);

      await send(carolPage, `typo ${carol}`);
      const mine = messageItem(carolPage, carol, `typo ${carol}`);
      await mine.hover();
      await mine.getByRole('button', { name: 'Edit', exact: true }).click();
      await expect(carolPage.getByText('Editing message')).toBeVisible();
      await audit(carolPage, `editing a message (${colorScheme})`);
      await carolPage.getByText('Editing message').locator('..').getByRole('button', { name: 'Cancel' }).click();
      await messageItem(carolPage, dave, `a question from ${dave}`).getByRole('button', { name: `Reply to ${dave}` }).click();
      await expect(carolPage.getByRole('button', { name: 'Cancel reply' })).toBeVisible();
      await audit(carolPage, `replying (${colorScheme})`);
      await carolPage.getByRole('button', { name: 'Cancel reply' }).click();

      await openDirect(carolPage, dave);
      await carolPage.getByRole('button', { name: /^Pinned \(/ }).click();
      await expect(carolPage.getByText('Nothing is pinned in this chat.')).toBeVisible();
      await audit(carolPage, `no pinned messages (${colorScheme})`);
      await carolPage.getByRole('dialog', { name: 'Pinned messages' }).getByRole('button', { name: 'Close' }).click();
      const search = carolPage.getByRole('searchbox', { name: 'Search messages' });
      await search.fill(`nowhere${carol}`);
      await search.press('Enter');
      await expect(carolPage.getByRole('region', { name: 'Search results' }).getByRole('status')).toHaveText('No messages found');
      await audit(carolPage, `no search results (${colorScheme})`);
    });

    test('unread counts, a mention, the unread divider and the jump buttons have no axe violations', async ({ browser }) => {
      test.setTimeout(90_000);
      const erin = uniqueName('axe');
      const finn = uniqueName('axf');
      const erinPage = await logIn(browser, erin, { colorScheme, viewport: { width: 900, height: 500 } });
      const finnPage = await logIn(browser, finn, { colorScheme });
      await openDirect(erinPage, finn);
      await send(finnPage, `@${erin} have a look`);
      const unread = 20;
      for (let i = 1; i <= unread; i += 1) await send(finnPage, `news ${i} ${finn}`);
      await expect(chatEntry(erinPage, 'Rooms', 'General')).toContainText(`${unread + 1} unread`);
      await audit(erinPage, `unread counts (${colorScheme})`);

      await openRoom(erinPage, 'General');
      await expect(messageItem(erinPage, finn, `news ${unread} ${finn}`)).toBeVisible();
      await expect(erinPage.getByRole('status').filter({ hasText: `${unread + 1} new messages` })).toBeVisible();
      await audit(erinPage, `new messages bar (${colorScheme})`);
      await erinPage.getByRole('button', { name: 'Jump to first unread' }).click();
      await expect(erinPage.getByRole('separator', { name: 'New messages' })).toBeInViewport();
      await expect(erinPage.getByRole('button', { name: 'Jump to latest' })).toBeVisible();
      await expect(messageItem(erinPage, finn, 'have a look')).toHaveClass(/mention/);
      await audit(erinPage, `unread divider, a mention, jump to latest (${colorScheme})`);
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
