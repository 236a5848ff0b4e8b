import { expect } from '@playwright/test';
import { chatEntry, logIn, messageItem, openRoom, send, test, uniqueName } from './helpers';

test('create, join, switch and leave rooms with unread counts', async ({ browser }) => {
  const alice = uniqueName('ra');
  const bob = uniqueName('rb');
  const room = uniqueName('Club');
  const alicePage = await logIn(browser, alice);
  const bobPage = await logIn(browser, bob);

  // General is there from the start.
  await expect(chatEntry(alicePage, 'Rooms', 'General')).toHaveCount(1);

  // Alice creates a room and lands in it.
  await alicePage.getByRole('button', { name: 'New room' }).click();
  await alicePage.getByLabel('Room name').fill(room);
  await alicePage.getByLabel('Room name').press('Enter');
  await expect(alicePage.getByRole('heading', { name: room, level: 1 })).toBeVisible();
  await expect(chatEntry(alicePage, 'Rooms', room)).toHaveCount(1);
  await expect(alicePage.getByRole('button', { name: '1 member' })).toBeVisible();

  // Bob finds it and joins; Alice sees him in the member list.
  await bobPage.getByRole('button', { name: 'Browse rooms' }).click();
  await bobPage.getByRole('button', { name: `Join ${room}` }).click();
  await expect(bobPage.getByRole('heading', { name: room, level: 1 })).toBeVisible();
  await expect(alicePage.getByRole('button', { name: '2 members' })).toBeVisible();
  await alicePage.getByRole('button', { name: '2 members' }).click();
  await expect(alicePage.getByRole('list', { name: 'Members' })).toContainText(bob);
  await alicePage.getByRole('button', { name: '2 members' }).click();

  // Alice goes back to General; Bob writes in the room twice: unread 2 for Alice.
  await openRoom(alicePage, 'General');
  await send(bobPage, `first in the club ${bob}`);
  await send(bobPage, `second in the club ${bob}`);
  await expect(chatEntry(alicePage, 'Rooms', room).locator('.badge')).toHaveText(/^2/);
  // A message in General from Bob, while Alice reads General: no badge there.
  await openRoom(bobPage, 'General');
  await send(bobPage, `hi general ${bob}`);
  await expect(messageItem(alicePage, bob, `hi general ${bob}`)).toHaveCount(1);
  await expect(chatEntry(alicePage, 'Rooms', 'General').locator('.badge')).toHaveCount(0);

  // Switching to the room shows its messages and clears the count.
  await openRoom(alicePage, room);
  await expect(messageItem(alicePage, bob, `second in the club ${bob}`)).toHaveCount(1);
  await expect(chatEntry(alicePage, 'Rooms', room).locator('.badge')).toHaveCount(0);
  // Survives a reload: the server agrees it was read.
  await alicePage.reload();
  await expect(chatEntry(alicePage, 'Rooms', room)).toHaveCount(1);
  await expect(chatEntry(alicePage, 'Rooms', room).locator('.badge')).toHaveCount(0);

  // Bob leaves: the room goes from his list and he is back in General.
  await openRoom(bobPage, room);
  await bobPage.getByRole('button', { name: 'Leave room' }).click();
  await expect(bobPage.getByRole('heading', { name: 'General', level: 1 })).toBeVisible();
  await expect(chatEntry(bobPage, 'Rooms', room)).toHaveCount(0);
  await expect(alicePage.getByRole('button', { name: '1 member' })).toBeVisible();
  // General cannot be left.
  await expect(bobPage.getByRole('button', { name: 'Leave room' })).toHaveCount(0);
});
