import { expect, type Browser, type Page } from '@playwright/test';
import { audit } from './audit';
import { OwnServer } from './own-server';
import { PASSWORD, expectOnline, newPage, test } from './helpers';

// Roles change the whole server (its first account is the owner): a Parlor of its own.
let server: OwnServer;
test.beforeAll(async () => {
  server = await OwnServer.start();
});
test.afterAll(async () => {
  await server.stop();
});

async function signIn(browser: Browser, path: string, name: string, button: 'Log in' | 'Sign up'): Promise<Page> {
  const page = await newPage(browser);
  await page.goto(`${server.url}${path}`);
  await page.getByLabel('Username', { exact: true }).fill(name);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: button }).click();
  await expect(page.getByRole('heading', { name: 'General', level: 1 })).toBeVisible();
  await expectOnline(page);
  return page;
}

test('a limited user does not see a private room and cannot create one, until a manager adds them', async ({ browser }) => {
  test.setTimeout(90_000);
  const owner = await signIn(browser, '/', 'olga', 'Log in');

  // The owner makes a private room.
  await owner.getByRole('button', { name: 'New room' }).click();
  await owner.getByLabel('Room name').fill('Secret');
  await owner.getByLabel('Private', { exact: true }).check();
  await owner.getByRole('button', { name: 'Create', exact: true }).click();
  await expect(owner.getByRole('heading', { name: 'Secret', level: 1 })).toBeVisible();

  // And an invitation for a limited account.
  await owner.getByRole('button', { name: 'Account', exact: true }).click();
  const panel = owner.getByRole('region', { name: 'Who may join' });
  const form = panel.getByRole('form', { name: 'Invite someone' });
  await form.getByLabel('Role').selectOption('limited');
  await form.getByRole('button', { name: 'Create invitation' }).click();
  const linkBox = panel.getByRole('textbox', { name: 'Invitation link' });
  await expect(linkBox).toHaveValue(/\/invite\//);
  const link = await linkBox.inputValue();
  await owner.getByRole('button', { name: 'Account', exact: true }).click();

  const kid = await signIn(browser, new URL(link).pathname, 'kim', 'Sign up');
  const rooms = kid.getByRole('list', { name: 'Rooms' });
  await expect(rooms.getByRole('button', { name: /General/ })).toBeVisible();
  await expect(rooms.getByRole('button', { name: /Secret/ })).toHaveCount(0);
  // No room of its own, and no room list to join from.
  await expect(kid.getByRole('button', { name: 'New room' })).toBeHidden();
  await expect(kid.getByRole('button', { name: 'Browse rooms' })).toBeHidden();

  // A member sees neither the private room when browsing.
  const member = await signIn(browser, '/', 'max', 'Log in');
  await member.getByRole('button', { name: 'Browse rooms' }).click();
  await expect(member.getByRole('list', { name: 'Not joined yet' })).toBeVisible();
  await expect(member.getByRole('list', { name: 'Not joined yet' }).getByText('Secret')).toHaveCount(0);

  // The owner adds kim to the room and gives it a topic: kim sees both at once.
  await owner.getByRole('button', { name: 'Room settings' }).click();
  const settings = owner.getByRole('region', { name: 'Room settings' });
  await settings.getByLabel('Topic').fill('Homework help');
  await settings.getByRole('button', { name: 'Save' }).click();
  await expect(settings.getByRole('status')).toHaveText('Saved.');
  await settings.getByLabel('Person').fill('kim');
  await settings.getByRole('button', { name: 'Add', exact: true }).click();
  await expect(settings.getByRole('status')).toHaveText('kim was added.');
  await audit(owner, 'the room settings panel');

  await expect(rooms.getByRole('button', { name: /Secret/ })).toBeVisible();
  await rooms.getByRole('button', { name: /Secret/ }).click();
  await expect(kid.getByRole('heading', { name: 'Secret', level: 1 })).toBeVisible();
  await expect(kid.getByText('Homework help')).toBeVisible();
  // Not a manager: no settings for kim.
  await expect(kid.getByRole('button', { name: 'Room settings' })).toBeHidden();
});
