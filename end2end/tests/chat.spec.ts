import { expect } from '@playwright/test';
import { logIn, messageItem, messages, send, test, uniqueName } from './helpers';

test('two users chat live in General, each message once', async ({ browser }) => {
  const alice = uniqueName('alice');
  const bob = uniqueName('bob');
  const alicePage = await logIn(browser, alice);
  const bobPage = await logIn(browser, bob);

  const hello = `Hello Bob <b>not bold</b> ${alice}`;
  await send(alicePage, hello);
  await expect(messageItem(alicePage, alice, hello)).toHaveCount(1);
  await expect(messageItem(bobPage, alice, hello)).toHaveCount(1);
  await expect(messages(bobPage).locator('b')).toHaveCount(0);

  // Shift+Enter makes a new line instead of sending.
  const box = bobPage.getByLabel('Message', { exact: true });
  await box.fill('line one');
  await box.press('Shift+Enter');
  await box.pressSequentially('line two');
  await expect(box).toHaveValue('line one\nline two');
  await box.press('Enter');
  await expect(messageItem(alicePage, bob, 'line one\nline two')).toHaveCount(1);

  // Links are clickable, opened safely; other text stays text.
  await send(bobPage, `see https://example.com/page?x=1, ${bob}`);
  const link = messageItem(alicePage, bob, 'see').getByRole('link', { name: 'https://example.com/page?x=1' });
  await expect(link).toHaveAttribute('rel', 'noopener noreferrer');
  await expect(link).toHaveAttribute('target', '_blank');
  await expect(messageItem(alicePage, alice, hello)).toHaveCount(1);
});

test('HTML in a message shows as text and never runs', async ({ browser }) => {
  const alice = uniqueName('xa');
  const bob = uniqueName('xb');
  const alicePage = await logIn(browser, alice);
  const bobPage = await logIn(browser, bob);
  let dialogs = 0;
  for (const p of [alicePage, bobPage]) p.on('dialog', (d) => { dialogs += 1; void d.dismiss(); });

  const evil = '<img src=x onerror=alert(1)>';
  await send(alicePage, `${evil} ${alice}`);
  const item = messageItem(bobPage, alice, alice);
  await expect(item).toContainText(evil);
  await expect(item.locator('.text img')).toHaveCount(0);
  await expect(messages(bobPage).locator('.text img')).toHaveCount(0);
  await send(bobPage, `javascript:alert(2) ${bob}`);
  await expect(messageItem(alicePage, bob, 'javascript:alert(2)').getByRole('link')).toHaveCount(0);
  expect(dialogs).toBe(0);
});
