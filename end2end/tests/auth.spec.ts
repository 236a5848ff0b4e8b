import { expect } from '@playwright/test';
import { PASSWORD, expectOnline, logIn, messageItem, send, test, uniqueName } from './helpers';

test('register, log out and log in again with the password', async ({ browser }) => {
  const name = uniqueName('reg');
  const page = await logIn(browser, name);
  await expect(page.locator('.me')).toHaveText(name);
  // No password is kept in the browser: only a session token.
  const stored = await page.evaluate(() => JSON.stringify(localStorage));
  expect(stored).not.toContain(PASSWORD);
  expect(stored).toContain('token');

  await send(page, `hello from ${name}`);
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page.getByRole('button', { name: 'Log in' })).toBeVisible();
  expect(await page.evaluate(() => localStorage.getItem('parlor.session'))).toBeNull();

  // A reload stays logged out.
  await page.reload();
  await expect(page.getByRole('button', { name: 'Log in' })).toBeVisible();

  await page.getByLabel('Username', { exact: true }).fill(name.toUpperCase());
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('heading', { name: 'General', level: 1 })).toBeVisible();
  await expectOnline(page);
  // Logged in with the registered spelling, history there.
  await expect(page.locator('.me')).toHaveText(name);
  await expect(messageItem(page, name, `hello from ${name}`)).toHaveCount(1);
});

test('a wrong password shows the error and stays on the login form', async ({ browser }) => {
  const name = uniqueName('wrong');
  const first = await logIn(browser, name);
  await first.context().close();

  const page = await (await browser.newContext()).newPage();
  await page.goto('/');
  await page.getByLabel('Username', { exact: true }).fill(name);
  await page.getByLabel('Password', { exact: true }).fill('not the password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('alert')).toContainText(/password/i);
  await expect(page.getByRole('heading', { name: 'General' })).toHaveCount(0);
});
