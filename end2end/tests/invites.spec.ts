import { expect, type Browser, type Page } from '@playwright/test';
import { audit } from './audit';
import { OwnServer } from './own-server';
import { PASSWORD, expectOnline, newPage, test } from './helpers';

// Who may join changes the whole server, so this spec runs a Parlor of its own: the
// first account there is its owner.
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
  return page;
}

test('the owner makes the server invite-only, invites someone, and they sign up from the link', async ({ browser }) => {
  test.setTimeout(60_000);
  const owner = await signIn(browser, '/', 'olga', 'Log in');
  await expect(owner.getByRole('heading', { name: 'General', level: 1 })).toBeVisible();
  await expectOnline(owner);

  await owner.getByRole('button', { name: 'Account', exact: true }).click();
  const panel = owner.getByRole('region', { name: 'Who may join' });
  await panel.getByLabel('Sign-up', { exact: true }).selectOption('invite');
  await expect(panel.getByRole('status')).toHaveText('Only people with an invitation can sign up now.');

  // A stranger who opens the app cannot make an account any more.
  const stranger = await signIn(browser, '/', 'sam', 'Log in');
  await expect(stranger.getByRole('alert')).toContainText('invitation');

  const form = panel.getByRole('form', { name: 'Invite someone' });
  await form.getByLabel('Role').selectOption('member');
  await form.getByRole('button', { name: 'Create invitation' }).click();
  // The link appears when the server has answered.
  const linkBox = panel.getByRole('textbox', { name: 'Invitation link' });
  await expect(linkBox).toHaveValue(/\/invite\/[a-z2-7]{20,}$/);
  const link = await linkBox.inputValue();
  await expect(panel.getByRole('img', { name: 'QR code of the invitation link' })).toBeVisible();
  await expect(panel.getByRole('list', { name: 'Open invitations' }).getByRole('listitem')).toHaveCount(1);
  await audit(owner, 'the owner\'s invitation panel');

  // The invited person opens the link in another browser and signs up.
  const guestPath = new URL(link).pathname;
  const invited = await signIn(browser, guestPath, 'ivy', 'Sign up');
  await expect(invited.getByRole('heading', { name: 'General', level: 1 })).toBeVisible();
  await expectOnline(invited);
  expect(new URL(invited.url()).pathname).toBe('/');
  // Used up: the list is empty again.
  await owner.getByRole('button', { name: 'Account', exact: true }).click();
  await owner.getByRole('button', { name: 'Account', exact: true }).click();
  await expect(
    owner.getByRole('region', { name: 'Who may join' }).getByRole('list', { name: 'Open invitations' }).getByRole('listitem'),
  ).toHaveCount(0);
});

test('the owner bans a person, whose open page is logged out at once, and lets them back in', async ({ browser }) => {
  test.setTimeout(60_000);
  // The owner of this server is olga (the first test made her).
  const owner = await signIn(browser, '/', 'olga', 'Log in');
  await expect(owner.getByRole('heading', { name: 'General', level: 1 })).toBeVisible();
  await owner.getByRole('button', { name: 'Account', exact: true }).click();
  const panel = owner.getByRole('region', { name: 'Who may join' });
  await panel.getByRole('form', { name: 'Invite someone' }).getByRole('button', { name: 'Create invitation' }).click();
  const linkBox = panel.getByRole('textbox', { name: 'Invitation link' });
  await expect(linkBox).toHaveValue(/\/invite\//);
  const link = await linkBox.inputValue();
  const ben = await signIn(browser, new URL(link).pathname, 'ben', 'Sign up');
  await expect(ben.getByRole('heading', { name: 'General', level: 1 })).toBeVisible();
  await expectOnline(ben);

  const form = panel.getByRole('form', { name: 'Ban a person' });
  await form.getByLabel('Name to ban').fill('ben');
  await form.getByRole('button', { name: 'Ban' }).click();
  await expect(panel.getByRole('list', { name: 'Banned' }).getByRole('listitem')).toHaveText(/ben · by olga/);
  // Ben's open page is logged out at once, and he cannot log in again.
  await expect(ben.getByRole('button', { name: 'Log in' })).toBeVisible();
  await ben.getByLabel('Username', { exact: true }).fill('ben');
  await ben.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await ben.getByRole('button', { name: 'Log in' }).click();
  await expect(ben.getByRole('alert')).toContainText('banned');

  await panel.getByRole('button', { name: 'Unban ben' }).click();
  await expect(panel.getByRole('list', { name: 'Banned' }).getByRole('listitem')).toHaveCount(0);
  await ben.getByRole('button', { name: 'Log in' }).click();
  await expect(ben.getByRole('heading', { name: 'General', level: 1 })).toBeVisible();
});
