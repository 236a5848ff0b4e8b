import { expect } from '@playwright/test';
import { chatEntry, logIn, messageItem, openDirect, send, test, uniqueName } from './helpers';

test('start a direct chat from the people list; unread, delivered and read marks', async ({ browser }) => {
  const alice = uniqueName('da');
  const bob = uniqueName('db');
  const bobPage = await logIn(browser, bob);
  const alicePage = await logIn(browser, alice);

  await openDirect(alicePage, bob);
  await expect(chatEntry(alicePage, 'Direct chats', bob)).toHaveCount(1);
  const text = `psst ${alice}`;
  await send(alicePage, text);
  const mine = messageItem(alicePage, alice, text);
  // Bob is in General: the message is delivered to his browser, not read.
  await expect(mine.locator('.mark')).toHaveText(/Delivered/);

  // Bob sees the chat listed with one unread message.
  const entry = chatEntry(bobPage, 'Direct chats', alice);
  await expect(entry.locator('.badge')).toHaveText(/^1/);
  await send(alicePage, `second ${alice}`);
  await expect(entry.locator('.badge')).toHaveText(/^2/);

  // Bob opens it: both shown, count cleared, Alice sees "Read".
  await entry.getByRole('button').click();
  await expect(bobPage.getByRole('heading', { name: alice, level: 1 })).toBeVisible();
  await expect(messageItem(bobPage, alice, text)).toHaveCount(1);
  await expect(messageItem(bobPage, alice, `second ${alice}`)).toHaveCount(1);
  await expect(entry.locator('.badge')).toHaveCount(0);
  await expect(mine.locator('.mark')).toHaveText(/Read/);
  await expect(messageItem(alicePage, alice, `second ${alice}`).locator('.mark')).toHaveText(/Read/);

  // Bob answers while Alice is looking: it is read at once.
  await send(bobPage, `hey ${bob}`);
  await expect(messageItem(alicePage, bob, `hey ${bob}`)).toHaveCount(1);
  await expect(messageItem(bobPage, bob, `hey ${bob}`).locator('.mark')).toHaveText(/Read/);
});

test('rooms show "seen by" with the names', async ({ browser }) => {
  const alice = uniqueName('sa');
  const bob = uniqueName('sb');
  const carol = uniqueName('sc');
  const alicePage = await logIn(browser, alice);
  const bobPage = await logIn(browser, bob);
  const carolPage = await logIn(browser, carol);

  // A room of their own: nobody else reads it.
  const room = uniqueName('Seen');
  await alicePage.getByRole('button', { name: 'New room' }).click();
  await alicePage.getByLabel('Room name').fill(room);
  await alicePage.getByLabel('Room name').press('Enter');
  for (const p of [bobPage, carolPage]) {
    await p.getByRole('button', { name: 'Browse rooms' }).click();
    await p.getByRole('button', { name: `Join ${room}` }).click();
    await expect(p.getByRole('heading', { name: room, level: 1 })).toBeVisible();
  }
  await expect(alicePage.getByRole('button', { name: '3 members' })).toBeVisible();
  const text = `who reads this ${alice}`;
  await send(alicePage, text);
  await expect(messageItem(bobPage, alice, text)).toHaveCount(1);
  await expect(messageItem(carolPage, alice, text)).toHaveCount(1);
  const seen = messageItem(alicePage, alice, text).locator('.seen');
  await expect(seen).toHaveText(/^Seen by 2/);
  await expect(seen).toHaveAttribute('title', new RegExp(`${bob}`));
  await expect(seen).toHaveAttribute('title', new RegExp(`${carol}`));
  await seen.focus();
  await expect(seen.locator('.seen-names')).toBeVisible();
});
