import { expect, type Page } from '@playwright/test';
import {
  chatEntry,
  composer,
  logIn,
  messageItem,
  messages,
  openDirect,
  openRoom,
  send,
  test,
  uniqueName,
} from './helpers';

/** The message item holding the "New messages" divider. */
function dividerItem(page: Page) {
  return messages(page)
    .getByRole('listitem')
    .filter({ has: page.getByRole('separator', { name: 'New messages' }) });
}

test('the unread divider sits at the first unread message and stays while reading', async ({ browser }) => {
  const alice = uniqueName('ra');
  const bob = uniqueName('rb');
  const alicePage = await logIn(browser, alice);
  const bobPage = await logIn(browser, bob);

  await openDirect(alicePage, bob);
  await send(alicePage, `before one ${alice}`);
  await send(alicePage, `before two ${alice}`);
  // Bob reads those, then leaves the chat.
  await chatEntry(bobPage, 'Direct chats', alice).getByRole('button').click();
  await expect(messageItem(bobPage, alice, 'before two')).toBeVisible();
  await expect(dividerItem(bobPage)).toHaveText(/before one/);
  await openRoom(bobPage, 'General');
  await expect(chatEntry(bobPage, 'Direct chats', alice)).not.toContainText(/\d+ unread/);

  await send(alicePage, `after one ${alice}`);
  await send(alicePage, `after two ${alice}`);
  await expect(chatEntry(bobPage, 'Direct chats', alice)).toContainText('2 unread');

  await chatEntry(bobPage, 'Direct chats', alice).getByRole('button').click();
  await expect(messageItem(bobPage, alice, 'after two')).toBeVisible();
  // Exactly one divider, on the first message Bob had not read.
  await expect(bobPage.getByRole('separator', { name: 'New messages' })).toHaveCount(1);
  await expect(dividerItem(bobPage)).toContainText('after one');
  // Reading them (they are on screen) does not move it; a new message does not either.
  await send(alicePage, `after three ${alice}`);
  await expect(messageItem(bobPage, alice, 'after three')).toBeVisible();
  await expect(dividerItem(bobPage)).toContainText('after one');
  // All on screen: no offer to jump.
  await expect(bobPage.getByRole('button', { name: 'Jump to first unread' })).toHaveCount(0);
});

test('jump to the first unread loads older history, and jump to latest returns', async ({ browser }) => {
  test.setTimeout(120_000);
  const alice = uniqueName('ja');
  const bob = uniqueName('jb');
  const alicePage = await logIn(browser, alice);
  let bobPage = await logIn(browser, bob);

  await openDirect(alicePage, bob);
  await send(alicePage, `read already ${alice}`);
  await chatEntry(bobPage, 'Direct chats', alice).getByRole('button').click();
  await expect(messageItem(bobPage, alice, 'read already')).toBeVisible();
  // Bob closes the page: when he comes back, only the latest page is loaded.
  await bobPage.context().close();

  // More unread than the first page Bob loads (50).
  const unread = 70;
  const text = (i: number) => `unread ${i} ${alice}`;
  for (let i = 1; i <= unread; i += 1) await send(alicePage, text(i));

  bobPage = await logIn(browser, bob);
  await expect(chatEntry(bobPage, 'Direct chats', alice)).toContainText(`${unread} unread`);
  await chatEntry(bobPage, 'Direct chats', alice).getByRole('button').click();
  await expect(messageItem(bobPage, alice, text(unread))).toBeVisible();
  await expect(bobPage.getByRole('status').filter({ hasText: `${unread} new messages` })).toBeVisible();

  await bobPage.getByRole('button', { name: 'Jump to first unread' }).click();
  const first = messageItem(bobPage, alice, text(1));
  await expect(first).toBeInViewport();
  await expect(first).toBeFocused();
  await expect(dividerItem(bobPage)).toContainText(text(1));
  await expect(bobPage.getByRole('button', { name: 'Jump to first unread' })).toHaveCount(0);

  await bobPage.getByRole('button', { name: 'Jump to latest' }).click();
  await expect(messageItem(bobPage, alice, text(unread))).toBeInViewport();
  await expect(bobPage.getByRole('button', { name: 'Jump to latest' })).toHaveCount(0);
});

test('drafts are kept per chat across reloads and go when sent', async ({ browser }) => {
  const alice = uniqueName('da');
  const bob = uniqueName('db');
  await logIn(browser, alice);
  const bobPage = await logIn(browser, bob);

  await composer(bobPage).fill(`half a thought in General ${bob}`);
  await openDirect(bobPage, alice);
  await expect(composer(bobPage)).toHaveValue('');
  await composer(bobPage).fill('for alice, later');

  await bobPage.reload();
  await expect(bobPage.getByRole('heading', { name: alice, level: 1 })).toBeVisible();
  await expect(composer(bobPage)).toHaveValue('for alice, later');
  await openRoom(bobPage, 'General');
  await expect(composer(bobPage)).toHaveValue(`half a thought in General ${bob}`);

  await composer(bobPage).press('Enter');
  await expect(messageItem(bobPage, bob, 'half a thought in General')).toHaveCount(1);
  await bobPage.reload();
  await expect(bobPage.getByRole('heading', { name: 'General', level: 1 })).toBeVisible();
  await expect(composer(bobPage)).toHaveValue('');
  await openDirect(bobPage, alice);
  await expect(composer(bobPage)).toHaveValue('for alice, later');
});
