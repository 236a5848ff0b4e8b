import { expect, type Browser, type Page } from '@playwright/test';
import { audit } from './audit';
import { OwnServer } from './own-server';
import { PASSWORD, expectOnline, messageItem, newPage, openDirect, png, send, test } from './helpers';

// The screens only an owner, an admin or a second person brings up, in both colour
// schemes. Each test runs a Parlor of its own: its first account is the owner.

type Scheme = 'light' | 'dark';

/** Opens `url + path` in a new context of `colorScheme` and submits the login form. */
async function signIn(
  browser: Browser,
  url: string,
  path: string,
  name: string,
  colorScheme: Scheme,
  button: 'Log in' | 'Sign up' | 'Set new password' = 'Log in',
): Promise<Page> {
  const page = await newPage(browser, { colorScheme });
  await page.goto(`${url}${path}`);
  await page.getByLabel('Username', { exact: true }).fill(name);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: button }).click();
  await expect(page.getByRole('heading', { name: 'General', level: 1 })).toBeVisible();
  await expectOnline(page);
  return page;
}

function account(page: Page) {
  return page.getByRole('button', { name: 'Account', exact: true });
}

for (const colorScheme of ['light', 'dark'] as const) {
  test.describe(`${colorScheme} theme`, () => {
    let server: OwnServer;
    test.beforeEach(async () => {
      server = await OwnServer.start();
    });
    test.afterEach(async () => {
      await server.stop();
    });

    test('the owner\'s account panel, every part of it, has no axe violations', async ({ browser }) => {
      test.setTimeout(120_000);
      const owner = await signIn(browser, server.url, '/', 'olga', colorScheme);
      await signIn(browser, server.url, '/', 'max', colorScheme);
      await signIn(browser, server.url, '/', 'bea', colorScheme);

      await account(owner).click();
      await expect(owner.getByRole('list', { name: 'Roles' }).getByRole('listitem')).toHaveCount(2);
      await expect(owner.getByText(/^Database .* messages in rooms/)).toBeVisible();
      await audit(owner, `owner's account panel (${colorScheme})`);

      // The profile, saved, with a picture.
      const profile = owner.getByRole('form', { name: 'Profile' });
      await profile.getByLabel('Display name').fill('Olga Owner');
      await profile.getByLabel('About').fill('Runs this server.');
      await profile.getByRole('button', { name: 'Save profile' }).click();
      await expect(profile.getByRole('status')).toHaveText('Profile saved.');
      await profile.getByLabel('Picture').setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: png(64, 64) });
      await expect(profile.getByRole('img', { name: 'Your picture' })).toBeVisible();

      // This device: the push toggle's refusal and the ntfy topic.
      const device = owner.getByRole('region', { name: 'This device' });
      await device.getByLabel('Notify me here when Parlor is closed').click();
      await expect(device.getByRole('alert')).toContainText('Notifications are blocked');
      await device.getByRole('button', { name: 'Android without internet: use ntfy' }).click();
      await expect(device.getByRole('button', { name: 'Make a new topic' })).toBeVisible();
      await audit(owner, `profile and this device (${colorScheme})`);

      // Who may join: invitation only, an invitation made, a person banned.
      const join = owner.getByRole('region', { name: 'Who may join' });
      await join.getByLabel('Sign-up', { exact: true }).selectOption('invite');
      await expect(join.getByRole('status')).toHaveText('Only people with an invitation can sign up now.');
      await join.getByRole('form', { name: 'Invite someone' }).getByRole('button', { name: 'Create invitation' }).click();
      await expect(join.getByRole('textbox', { name: 'Invitation link' })).toHaveValue(/\/invite\//);
      await expect(join.getByRole('img', { name: 'QR code of the invitation link' })).toBeVisible();
      const ban = join.getByRole('form', { name: 'Ban a person' });
      await ban.getByLabel('Name to ban').fill('bea');
      await ban.getByRole('button', { name: 'Ban' }).click();
      await expect(join.getByRole('list', { name: 'Banned' }).getByRole('listitem')).toHaveText(/bea · by olga/);
      await expect(join.getByRole('list', { name: 'Open invitations' }).getByRole('listitem')).toHaveCount(1);

      // People with roles, a reset link, and what happens to a deleted account's messages.
      await owner.getByRole('combobox', { name: 'Role of max' }).selectOption('limited');
      await expect(owner.getByRole('combobox', { name: 'Role of max' })).toHaveValue('limited');
      const reset = owner.getByRole('form', { name: 'Password reset' });
      await reset.getByLabel('Password reset link for').fill('max');
      await reset.getByRole('button', { name: 'Make link' }).click();
      await expect(reset.getByRole('textbox', { name: 'Reset link', exact: true })).toHaveValue(/\/reset\//);
      await owner.getByRole('combobox', { name: /Messages of deleted accounts/ }).selectOption('erase');
      await audit(owner, `who may join, roles, reset link (${colorScheme})`);
    });

    test('an admin\'s and a member\'s account panels, the invitation and reset pages have no axe violations', async ({ browser }) => {
      test.setTimeout(120_000);
      const owner = await signIn(browser, server.url, '/', 'olga', colorScheme);
      const max = await signIn(browser, server.url, '/', 'max', colorScheme);
      const ida = await signIn(browser, server.url, '/', 'ida', colorScheme);

      // A member: the panel with "Delete account", and its refusal of a wrong password.
      await account(ida).click();
      const remove = ida.getByRole('form', { name: 'Delete account' });
      await remove.getByLabel('Password, to delete your account').fill('not the password');
      await remove.getByRole('button', { name: 'Delete my account' }).click();
      await expect(remove.getByRole('alert')).not.toBeEmpty();
      await audit(ida, `member's account panel with delete account (${colorScheme})`);

      // An admin: roles they may not change are disabled.
      await account(owner).click();
      await owner.getByRole('combobox', { name: 'Role of max' }).selectOption('admin');
      await account(max).click();
      await expect(max.getByRole('region', { name: 'Who may join' })).toBeVisible();
      await expect(max.getByRole('combobox', { name: 'Role of olga' })).toBeDisabled();
      await audit(max, `admin's account panel (${colorScheme})`);

      // The invitation page, then signing up from it.
      const invite = max.getByRole('form', { name: 'Invite someone' });
      await invite.getByRole('button', { name: 'Create invitation' }).click();
      const link = await max.getByRole('textbox', { name: 'Invitation link' });
      await expect(link).toHaveValue(/\/invite\//);
      const invitePath = new URL(await link.inputValue()).pathname;
      const guest = await newPage(browser, { colorScheme });
      await guest.goto(`${server.url}${invitePath}`);
      await expect(guest.getByText('You are invited.', { exact: false })).toBeVisible();
      await audit(guest, `invitation page (${colorScheme})`);
      await signIn(browser, server.url, invitePath, 'ivy', colorScheme, 'Sign up');

      // The reset page, then a new password set from it.
      const reset = max.getByRole('form', { name: 'Password reset' });
      await reset.getByLabel('Password reset link for').fill('ida');
      await reset.getByRole('button', { name: 'Make link' }).click();
      const resetLink = reset.getByRole('textbox', { name: 'Reset link', exact: true });
      await expect(resetLink).toHaveValue(/\/reset\//);
      const resetPath = new URL(await resetLink.inputValue()).pathname;
      const forgot = await newPage(browser, { colorScheme });
      await forgot.goto(`${server.url}${resetPath}`);
      await expect(forgot.getByRole('button', { name: 'Set new password' })).toBeVisible();
      await audit(forgot, `password reset page (${colorScheme})`);
      await signIn(browser, server.url, resetPath, 'ida', colorScheme, 'Set new password');
    });

    test('room settings, a block, and the offline and reconnecting banners have no axe violations', async ({ browser }) => {
      test.setTimeout(120_000);
      const owner = await signIn(browser, server.url, '/', 'olga', colorScheme);
      const max = await signIn(browser, server.url, '/', 'max', colorScheme);
      const zed = await signIn(browser, server.url, '/', 'zed', colorScheme);

      // Room settings, saved, with a person muted and then a refusal.
      await owner.getByRole('button', { name: 'New room' }).click();
      await owner.getByLabel('Room name').fill('Garden');
      await owner.getByRole('button', { name: 'Create', exact: true }).click();
      await expect(owner.getByRole('heading', { name: 'Garden', level: 1 })).toBeVisible();
      await owner.getByRole('button', { name: 'Room settings' }).click();
      const settings = owner.getByRole('region', { name: 'Room settings' });
      await audit(owner, `room settings (${colorScheme})`);
      await settings.getByLabel('Topic').fill('Seeds and weeds');
      await settings.getByLabel('Announcements: only managers post').check();
      await settings.getByLabel('Keep messages (days, empty: for ever)').fill('30');
      await settings.getByRole('button', { name: 'Save' }).click();
      await expect(settings.getByRole('status')).toHaveText('Saved.');
      await settings.getByLabel('Person').fill('max');
      await settings.getByRole('button', { name: 'Add', exact: true }).click();
      await expect(settings.getByRole('status')).toHaveText('max was added.');
      await settings.getByLabel('Person').fill('max');
      await settings.getByRole('button', { name: 'Mute', exact: true }).click();
      await expect(settings.getByText('Muted: max')).toBeVisible();
      await settings.getByRole('button', { name: 'Remove', exact: true }).click();
      await expect(settings.getByRole('alert')).toHaveText('Type the person\'s name first.');
      await expect(owner.getByText('Seeds and weeds')).toBeVisible();
      await audit(owner, `room settings, saved, a person muted, a refusal (${colorScheme})`);

      // Max, muted, writes there anyway: the server's refusal and the failed message.
      await max.getByRole('list', { name: 'Rooms' }).getByRole('button', { name: /Garden/ }).click();
      await expect(max.getByRole('heading', { name: 'Garden', level: 1 })).toBeVisible();
      await send(max, 'may I speak');
      await expect(max.getByRole('alert').filter({ hasText: 'Not sent' })).toBeVisible();
      await expect(messageItem(max, 'max', 'may I speak').getByRole('button', { name: 'Discard' })).toBeVisible();
      await audit(max, `a refused message and its notice (${colorScheme})`);

      // Max blocks zed: the direct chat's header, and zed's message folded in General.
      await send(zed, `a message from zed`);
      await max.getByRole('list', { name: 'Rooms' }).getByRole('button', { name: /General/ }).click();
      await expect(messageItem(max, 'zed', 'a message from zed')).toHaveCount(1);
      await openDirect(max, 'zed');
      await max.getByRole('button', { name: 'Block' }).click();
      await expect(max.getByRole('button', { name: 'Unblock' })).toHaveAttribute('aria-pressed', 'true');
      await audit(max, `blocked direct chat (${colorScheme})`);
      await max.getByRole('list', { name: 'Rooms' }).getByRole('button', { name: /General/ }).click();
      await expect(max.getByText('A message from someone you blocked.')).toBeVisible();
      await audit(max, `a folded message (${colorScheme})`);

      // Offline: the banner and a message waiting to be sent.
      await owner.context().setOffline(true);
      await expect(owner.locator('.banner')).toContainText('You are offline');
      await send(owner, 'written offline');
      await expect(messageItem(owner, 'olga', 'written offline')).toContainText('Pending');
      await audit(owner, `offline banner and a pending message (${colorScheme})`);
      await owner.context().setOffline(false);
      await expectOnline(owner);

      // The server gone: reconnecting, with "Retry now".
      await server.stop();
      server = await OwnServer.start();
      await expect(max.locator('.banner')).toContainText('Reconnecting');
      await expect(max.getByRole('button', { name: 'Retry now' })).toBeVisible();
      await audit(max, `reconnecting banner (${colorScheme})`);
    });
  });
}
