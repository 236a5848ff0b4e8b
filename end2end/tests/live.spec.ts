import { expect } from '@playwright/test';
import { composer, logIn, messageItem, onlinePerson, openDirect, person, send, test, uniqueName } from './helpers';

test('typing is shown, and cleared on send or after a pause', async ({ browser }) => {
  const alice = uniqueName('ta');
  const bob = uniqueName('tb');
  const carol = uniqueName('tc');
  const alicePage = await logIn(browser, alice);
  const bobPage = await logIn(browser, bob);
  const carolPage = await logIn(browser, carol);
  const typing = alicePage.locator('.typing');

  await composer(bobPage).pressSequentially('hel');
  await expect(typing).toHaveText(`${bob} is typing…`);
  await composer(carolPage).pressSequentially('yo');
  await expect(typing).toHaveText(new RegExp(`(${bob} and ${carol}|${carol} and ${bob}) are typing…`));

  // Sending clears Bob at once.
  await composer(bobPage).pressSequentially('lo');
  await composer(bobPage).press('Enter');
  await expect(messageItem(alicePage, bob, 'hello')).toHaveCount(1);
  await expect(typing).toHaveText(`${carol} is typing…`);
  // Carol stops typing: gone after a few seconds.
  await expect(typing).toBeEmpty({ timeout: 8_000 });
  // Nobody sees their own typing.
  await expect(carolPage.locator('.typing')).toBeEmpty();
});

test('presence: status changes are seen by others', async ({ browser }) => {
  const alice = uniqueName('pa');
  const bob = uniqueName('pb');
  const alicePage = await logIn(browser, alice);
  const bobPage = await logIn(browser, bob);

  const bobForAlice = person(alicePage, bob);
  await expect(onlinePerson(alicePage, bob)).toContainText('online');
  await expect(bobForAlice.locator('.dot')).toHaveClass(/online/);

  await bobPage.getByLabel('Status').selectOption('busy');
  await expect(bobForAlice).toContainText('busy');
  await expect(bobForAlice.locator('.dot')).toHaveClass(/busy/);

  await bobPage.getByLabel('Status').selectOption('away');
  await expect(bobForAlice).toContainText('away');

  // Invisible looks offline to others.
  await bobPage.getByLabel('Status').selectOption('offline');
  await expect(bobForAlice).toContainText('offline');
  await expect(onlinePerson(alicePage, bob)).toHaveCount(0);
  await expect(alicePage.getByRole('region', { name: 'Offline' })).toContainText(bob);

  await bobPage.getByLabel('Status').selectOption('online');
  await expect(onlinePerson(alicePage, bob)).toContainText('online');

  // Closing the tab makes Bob offline; the direct chat header shows it too.
  await openDirect(alicePage, bob);
  await expect(alicePage.locator('.head-status')).toHaveText('online');
  await bobPage.context().close();
  await expect(bobForAlice).toContainText('offline');
  await expect(alicePage.locator('.head-status')).toHaveText('offline');
});

test('edit and delete are seen by the other', async ({ browser }) => {
  const alice = uniqueName('ea');
  const bob = uniqueName('eb');
  const alicePage = await logIn(browser, alice);
  const bobPage = await logIn(browser, bob);

  await send(alicePage, `helo ${alice}`);
  const forBob = messageItem(bobPage, alice, alice);
  await expect(forBob).toContainText(`helo ${alice}`);

  // Edit with the button; Bob sees the new text marked as edited.
  const mine = messageItem(alicePage, alice, alice);
  await mine.hover();
  await mine.getByRole('button', { name: 'Edit' }).click();
  const box = composer(alicePage);
  await expect(box).toHaveValue(`helo ${alice}`);
  await box.fill(`hello ${alice}`);
  await box.press('Enter');
  await expect(forBob).toContainText(`hello ${alice}`);
  await expect(forBob.locator('.edited')).toHaveText('edited');
  await expect(mine.locator('.edited')).toHaveText('edited');

  // ArrowUp in the empty box edits the last own message; Escape cancels.
  await box.press('ArrowUp');
  await expect(box).toHaveValue(`hello ${alice}`);
  await box.press('Escape');
  await expect(box).toHaveValue('');

  // Delete: a tombstone for both.
  await mine.hover();
  await mine.getByRole('button', { name: 'Delete' }).click();
  await expect(forBob).toContainText('This message was deleted.');
  await expect(forBob).not.toContainText(`hello ${alice}`);
  await expect(mine).toContainText('This message was deleted.');
  // Others cannot edit or delete it.
  await expect(forBob.getByRole('button', { name: 'Edit' })).toHaveCount(0);
});
