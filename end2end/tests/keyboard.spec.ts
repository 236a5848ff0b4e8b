import { expect } from '@playwright/test';
import { PASSWORD, composer, expectOnline, logIn, messageItem, newPage, test, uniqueName } from './helpers';

test('keyboard only: log in, send, switch rooms, edit', async ({ browser }) => {
  const alice = uniqueName('ka');
  const bob = uniqueName('kb');
  const bobPage = await logIn(browser, bob);
  const page = await newPage(browser);
  await page.goto('/');
  // A person presses Tab once the form is there (the WebAssembly draws it after load).
  await expect(page.getByLabel('Username', { exact: true })).toBeVisible();

  await page.keyboard.press('Tab');
  await expect(page.getByLabel('Username', { exact: true })).toBeFocused();
  await page.keyboard.type(alice);
  await page.keyboard.press('Tab');
  await expect(page.getByLabel('Password', { exact: true })).toBeFocused();
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'General', level: 1 })).toBeVisible();
  await expectOnline(page);

  // The first stop is the skip link to the message box.
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Skip to the message box' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(composer(page)).toBeFocused();
  await page.keyboard.type(`typed without a mouse ${alice}`);
  await page.keyboard.press('Enter');
  await expect(messageItem(bobPage, alice, `typed without a mouse ${alice}`)).toHaveCount(1);

  // ArrowUp edits it, Enter saves.
  await page.keyboard.press('ArrowUp');
  await expect(composer(page)).toHaveValue(`typed without a mouse ${alice}`);
  await page.keyboard.press('End');
  await page.keyboard.type('!');
  await page.keyboard.press('Enter');
  await expect(messageItem(bobPage, alice, `typed without a mouse ${alice}!`)).toContainText('edited');

  // Tab to "New room", create one with the keyboard.
  const room = uniqueName('Keys');
  const newRoom = page.getByRole('button', { name: 'New room' });
  for (let i = 0; i < 20 && !(await newRoom.evaluate((el) => el === document.activeElement)); i++) {
    await page.keyboard.press('Tab');
  }
  await expect(newRoom).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByLabel('Room name')).toBeFocused();
  await page.keyboard.type(room);
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: room, level: 1 })).toBeVisible();

  // Back to General through the room list.
  const general = page.getByRole('list', { name: 'Rooms' }).getByRole('button', { name: /General/ });
  await general.focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'General', level: 1 })).toBeVisible();
  await expect(general).toHaveAttribute('aria-current', 'page');
});
