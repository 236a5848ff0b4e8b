import { expect } from '@playwright/test';
import { composer, logIn, messageItem, messages, send, test, uniqueName } from './helpers';

test('a reply shows its quote on the other side; bold, code and code blocks render as elements', async ({ browser }) => {
  const alice = uniqueName('ra');
  const bob = uniqueName('rb');
  const alicePage = await logIn(browser, alice);
  const bobPage = await logIn(browser, bob);

  const original = `The boiler of ${alice} is broken`;
  await send(alicePage, `${original}\nsecond line`);
  await messageItem(bobPage, alice, original).getByRole('button', { name: `Reply to ${alice}` }).click();
  await expect(bobPage.locator('.reply-note')).toContainText(`Replying to ${alice}`);
  await expect(composer(bobPage)).toBeFocused();
  await send(bobPage, `on it ${bob}`);
  await expect(bobPage.locator('.reply-note')).toHaveCount(0);

  for (const page of [alicePage, bobPage]) {
    const reply = messageItem(page, bob, `on it ${bob}`);
    await expect(reply.getByRole('button', { name: `Show the message from ${alice}: ${original}` })).toBeVisible();
  }

  // Cancel: the next message is no reply.
  await messageItem(alicePage, bob, `on it ${bob}`).getByRole('button', { name: `Reply to ${bob}` }).click();
  await alicePage.getByRole('button', { name: 'Cancel reply' }).click();
  await send(alicePage, `**strong ${alice}** and \`code ${alice}\` and ~~gone~~`);
  const formatted = messageItem(bobPage, alice, `strong ${alice}`);
  await expect(formatted.locator('strong')).toHaveText(`strong ${alice}`);
  await expect(formatted.locator('code')).toHaveText(`code ${alice}`);
  await expect(formatted.locator('del')).toHaveText('gone');
  await expect(formatted.getByRole('button', { name: /^Show the message/ })).toHaveCount(0);

  await send(alicePage, `block ${alice}\n\`\`\`rust\nfn main() { let x = **y**; }\n\`\`\``);
  const block = messageItem(bobPage, alice, `block ${alice}`);
  await expect(block.locator('pre code')).toHaveText('fn main() { let x = **y**; }');
  await expect(block.getByRole('button', { name: 'Copy rust code' })).toBeVisible();
  await expect(block.locator('.code-lang')).toHaveText('rust');

  // A message without markup is one plain paragraph, as before.
  await send(alicePage, `plain 2*3*4 snake_case ${alice}`);
  const plain = messageItem(bobPage, alice, `plain 2*3*4 snake_case ${alice}`);
  await expect(plain.locator('.bubble > p.text')).toHaveText(`plain 2*3*4 snake_case ${alice}`);
  await expect(plain.locator('em, strong, .rich')).toHaveCount(0);
});

test('activating the quote of an older message loads it, scrolls to it and highlights it', async ({ browser }) => {
  test.setTimeout(120_000);
  const alice = uniqueName('qa');
  const bob = uniqueName('qb');
  const carol = uniqueName('qc');
  const alicePage = await logIn(browser, alice);
  const room = uniqueName('Quotes');
  await alicePage.getByRole('button', { name: 'New room' }).click();
  await alicePage.getByLabel('Room name').fill(room);
  await alicePage.getByLabel('Room name').press('Enter');
  await expect(alicePage.getByRole('heading', { name: room, level: 1 })).toBeVisible();

  // More than two pages of history after the original (each user stays under the
  // rate limit), so that no page a reader loads on opening the room holds it.
  const original = `Minutes of the meeting by ${alice}`;
  await send(alicePage, original);
  for (let i = 1; i <= 55; i++) await send(alicePage, `filler ${i} of ${alice}`);
  const carolPage = await logIn(browser, carol);
  await carolPage.getByRole('button', { name: 'Browse rooms' }).click();
  await carolPage.getByRole('button', { name: `Join ${room}` }).click();
  await expect(carolPage.getByRole('heading', { name: room, level: 1 })).toBeVisible();
  for (let i = 1; i <= 55; i++) await send(carolPage, `more ${i} of ${carol}`);
  await messageItem(alicePage, alice, original).getByRole('button', { name: `Reply to ${alice}` }).click();
  await send(alicePage, `see the minutes ${alice}`);
  await expect(messageItem(alicePage, alice, `see the minutes ${alice}`).locator('.state')).toHaveCount(0);

  const bobPage = await logIn(browser, bob);
  await bobPage.getByRole('button', { name: 'Browse rooms' }).click();
  await bobPage.getByRole('button', { name: `Join ${room}` }).click();
  const reply = messageItem(bobPage, alice, `see the minutes ${alice}`);
  await expect(reply).toBeVisible();
  const originalItem = messages(bobPage)
    .locator('.message')
    .filter({ hasText: original })
    .filter({ hasNotText: 'see the minutes' });
  await expect(originalItem).toHaveCount(0);
  await reply.getByRole('button', { name: `Show the message from ${alice}: ${original}` }).click();
  await expect(originalItem).toHaveCount(1);
  await expect(originalItem).toBeInViewport();
  await expect(originalItem).toHaveClass(/focused/);
});
