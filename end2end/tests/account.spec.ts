import { expect } from '@playwright/test';
import { PASSWORD, expectOnline, logIn, test, uniqueName } from './helpers';

const NEW_PASSWORD = 'a brand new passphrase';

test('changing the password logs out the other browser; only the new password works', async ({ browser }) => {
  const name = uniqueName('acct');
  const here = await logIn(browser, name);
  const there = await logIn(browser, name);

  await here.getByRole('button', { name: 'Account', exact: true }).click();
  const panel = here.getByRole('region', { name: 'Account', exact: true });
  await panel.getByLabel('Current password', { exact: true }).fill('not the password');
  await panel.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
  await panel.getByLabel('Confirm new password', { exact: true }).fill(NEW_PASSWORD);
  await panel.getByRole('button', { name: 'Change password' }).click();
  await expect(panel.getByRole('alert')).toContainText(/current password is wrong/i);

  await panel.getByLabel('Current password', { exact: true }).fill(PASSWORD);
  await panel.getByLabel('Confirm new password', { exact: true }).fill('something else entirely');
  await panel.getByRole('button', { name: 'Change password' }).click();
  await expect(panel.getByRole('alert')).toContainText(/differ/i);

  await panel.getByLabel('Confirm new password', { exact: true }).fill(NEW_PASSWORD);
  await panel.getByRole('button', { name: 'Change password' }).click();
  await expect(panel.getByRole('status')).toContainText(/password changed/i);

  // The other browser is logged out; this one stays, with its new token after a reload.
  await expect(there.getByRole('button', { name: 'Log in' })).toBeVisible({ timeout: 20_000 });
  await here.reload();
  await expect(here.getByRole('heading', { name: 'General', level: 1 })).toBeVisible();
  await expectOnline(here);

  // The old password is refused, the new one works.
  await there.getByLabel('Username', { exact: true }).fill(name);
  await there.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await there.getByRole('button', { name: 'Log in' }).click();
  await expect(there.getByRole('alert')).toContainText(/password/i);
  await expect(there.getByRole('heading', { name: 'General', level: 1 })).toHaveCount(0);
  await there.getByLabel('Password', { exact: true }).fill(NEW_PASSWORD);
  await there.getByRole('button', { name: 'Log in' }).click();
  await expect(there.getByRole('heading', { name: 'General', level: 1 })).toBeVisible();
  await expectOnline(there);
});

test('log out everywhere ends every session of the user', async ({ browser }) => {
  const name = uniqueName('every');
  const here = await logIn(browser, name);
  const there = await logIn(browser, name);

  await here.getByRole('button', { name: 'Account', exact: true }).click();
  await here.getByRole('button', { name: 'Log out everywhere', exact: true }).click();
  await expect(here.getByRole('button', { name: 'Log in' })).toBeVisible();
  await expect(there.getByRole('button', { name: 'Log in' })).toBeVisible({ timeout: 20_000 });
  // Neither comes back on a reload.
  await there.reload();
  await expect(there.getByRole('button', { name: 'Log in' })).toBeVisible();
});
