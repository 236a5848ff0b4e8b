import { expect, type Browser, type Page } from '@playwright/test';
import { OwnServer } from './own-server';
import { messageItem, openDirect, png, send, signInAt, test } from './helpers';

// Profiles and blocks: a server of its own, so that names and the owner are known.
let server: OwnServer;
test.beforeAll(async () => {
  server = await OwnServer.start();
});
test.afterAll(async () => {
  await server.stop();
});

function signIn(browser: Browser, name: string): Promise<Page> {
  return signInAt(browser, server.url, name);
}

test('a display name and a picture cut square show on messages; a block folds the blocked away', async ({ browser }) => {
  test.setTimeout(90_000);
  const ann = await signIn(browser, 'ann');
  const bob = await signIn(browser, 'bob');

  // Ann names herself and picks a wide picture: it is cut square, 256×256.
  await ann.getByRole('button', { name: 'Account', exact: true }).click();
  const profile = ann.getByRole('form', { name: 'Profile' });
  await profile.getByLabel('Display name').fill('Ann Smith');
  await profile.getByRole('button', { name: 'Save profile' }).click();
  await expect(profile.getByRole('status')).toHaveText('Profile saved.');
  await profile.getByLabel('Picture').setInputFiles({
    name: 'wide.png',
    mimeType: 'image/png',
    buffer: png(120, 40, (x) => (x < 40 ? [255, 0, 0] : [0, 0, 255])),
  });
  await expect(profile.getByRole('status')).toHaveText('Picture saved.');
  const picture = profile.getByRole('img', { name: 'Your picture' });
  await expect(picture).toBeVisible();
  const size = await picture.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight]);
  expect(size).toEqual([256, 256]);
  await ann.getByRole('button', { name: 'Account', exact: true }).click();

  // Bob sees her new messages under her display name, with her picture.
  await send(ann, 'hello from the profile');
  const item = messageItem(bob, 'Ann Smith', 'hello from the profile');
  await expect(item).toHaveCount(1);
  await expect(item.locator('img.avatar')).toHaveAttribute('src', /^\/uploads\/[0-9a-f]+\.webp$/);

  // Bob blocks Ann from their direct chat: her room messages are folded away.
  await openDirect(bob, 'ann');
  await bob.getByRole('button', { name: 'Block' }).click();
  await expect(bob.getByRole('button', { name: 'Unblock' })).toBeVisible();
  await bob.getByRole('list', { name: 'Rooms' }).getByRole('button', { name: /General/ }).click();
  await send(ann, 'you will not see this at first');
  // Her earlier message is folded too once the room is shown again; this is the last.
  const folded = bob.getByText('A message from someone you blocked.').last();
  await expect(folded).toBeVisible();
  await expect(bob.getByText('A message from someone you blocked.')).toHaveCount(2);
  await expect(bob.getByText('you will not see this at first')).toHaveCount(0);
  await folded.getByRole('button', { name: 'Show' }).click();
  await expect(bob.getByText('you will not see this at first')).toBeVisible();
});
