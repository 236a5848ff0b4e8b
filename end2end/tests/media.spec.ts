import { expect } from '@playwright/test';
import { expectOnline, logIn, messageItem, messages, png, test, uniqueName } from './helpers';

test('an uploaded image is shown to the other with its size reserved', async ({ browser }) => {
  const alice = uniqueName('ia');
  const bob = uniqueName('ib');
  const alicePage = await logIn(browser, alice);
  const bobPage = await logIn(browser, bob);

  await alicePage.getByLabel('Attach file').setInputFiles({
    name: 'square.png',
    mimeType: 'image/png',
    buffer: png(64, 48),
  });
  await expect(alicePage.getByRole('list', { name: 'Attachments to send' })).toContainText('square.png');
  await alicePage.getByLabel('Message', { exact: true }).fill(`look ${alice}`);
  await alicePage.getByRole('button', { name: 'Send' }).click();

  const item = messageItem(bobPage, alice, `look ${alice}`);
  const img = item.getByRole('img', { name: 'square.png' });
  await expect(img).toBeVisible();
  await expect(img).toHaveAttribute('width', '64');
  await expect(img).toHaveAttribute('height', '48');
  await expect(img).toHaveAttribute('src', /^\/uploads\//);
  // The image really loads from the server.
  await expect.poll(() => img.evaluate((el: HTMLImageElement) => el.naturalWidth)).toBe(64);

  // A file that only claims to be an image is a plain file (the server reads its
  // bytes): staged by name, never shown as an image.
  await alicePage.getByLabel('Attach file').setInputFiles({
    name: 'fake.png',
    mimeType: 'image/png',
    buffer: Buffer.from('this is not a png'),
  });
  await expect(alicePage.getByRole('list', { name: 'Attachments to send' })).toContainText('fake.png');
  await alicePage.getByLabel('Message', { exact: true }).fill(`fake ${alice}`);
  await alicePage.getByRole('button', { name: 'Send' }).click();
  await expect(messageItem(bobPage, alice, `fake ${alice}`).getByRole('link', { name: /fake\.png/ })).toBeVisible();
  await expect(messages(bobPage).getByRole('img', { name: 'fake.png' })).toHaveCount(0);
});

test('phone layout: one column, the chat list as a drawer', async ({ browser }) => {
  const alice = uniqueName('ma');
  const bob = uniqueName('mb');
  const page = await logIn(browser, alice, {
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
  });
  const bobPage = await logIn(browser, bob);
  await expectOnline(page);

  // No horizontal scrolling; the composer is on screen.
  const widths = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  expect(widths[0]).toBeLessThanOrEqual(widths[1]);
  const box = page.getByLabel('Message', { exact: true });
  await expect(box).toBeInViewport();
  await expect(page.getByRole('button', { name: 'Send' })).toBeInViewport();
  // The chat list is hidden until the menu opens it.
  await expect(page.getByRole('list', { name: 'Rooms' })).toBeHidden();

  // A direct message elsewhere shows on the menu button.
  await bobPage.getByRole('region', { name: 'Online' }).getByRole('button', { name: new RegExp(alice) }).click();
  await bobPage.getByLabel('Message', { exact: true }).fill(`to your phone ${bob}`);
  await bobPage.getByLabel('Message', { exact: true }).press('Enter');
  const menu = page.getByRole('button', { name: /^Chats/ });
  await expect(menu).toHaveAccessibleName('Chats, 1 unread');

  await menu.click();
  await expect(page.getByRole('list', { name: 'Rooms' })).toBeVisible();
  await page.getByRole('list', { name: 'Direct chats' }).getByRole('button', { name: new RegExp(bob) }).click();
  await expect(page.getByRole('list', { name: 'Rooms' })).toBeHidden();
  await expect(page.getByRole('heading', { name: bob, level: 1 })).toBeVisible();
  await expect(messageItem(page, bob, `to your phone ${bob}`)).toBeVisible();

  // Sending from the phone.
  await box.fill(`from the phone ${alice}`);
  await page.getByRole('button', { name: 'Send' }).tap();
  await expect(messageItem(bobPage, alice, `from the phone ${alice}`)).toHaveCount(1);
  const after = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  expect(after[0]).toBeLessThanOrEqual(after[1]);
});
