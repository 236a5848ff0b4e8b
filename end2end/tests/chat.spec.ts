import { expect, test, type Browser, type Page } from '@playwright/test';

const PASSWORD = 'correct horse battery staple';

async function logIn(browser: Browser, username: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto('/');
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('heading', { name: 'General' })).toBeVisible();
  await expect(page.getByRole('list', { name: 'Messages' })).toBeVisible();
  return page;
}

async function send(page: Page, text: string): Promise<void> {
  const box = page.getByLabel('Message', { exact: true });
  await box.fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(box).toHaveValue('');
}

function messageItem(page: Page, author: string, text: string) {
  return page
    .getByRole('list', { name: 'Messages' })
    .getByRole('listitem')
    .filter({ hasText: author })
    .filter({ hasText: text });
}

test('two users chat live in General', async ({ browser }) => {
  const run = Date.now();
  const alice = `alice${run}`;
  const bob = `bob${run}`;

  const alicePage = await logIn(browser, alice);
  const bobPage = await logIn(browser, bob);

  const hello = `Hello Bob <b>not bold</b> ${run}`;
  await send(alicePage, hello);
  await expect(messageItem(alicePage, alice, hello)).toHaveCount(1);
  await expect(messageItem(bobPage, alice, hello)).toHaveCount(1);
  // Text is rendered as text, never as HTML.
  await expect(bobPage.getByRole('list', { name: 'Messages' }).locator('b')).toHaveCount(0);

  const reply = `Hi Alice ${run}`;
  await bobPage.getByLabel('Message', { exact: true }).fill(reply);
  await bobPage.getByLabel('Message', { exact: true }).press('Enter');
  await expect(messageItem(bobPage, bob, reply)).toHaveCount(1);
  await expect(messageItem(alicePage, bob, reply)).toHaveCount(1);

  // Each message appears once, even though the sender also gets it back as an event.
  await expect(messageItem(alicePage, alice, hello)).toHaveCount(1);
});

test('a wrong password shows the server error', async ({ browser }) => {
  const name = `carol${Date.now()}`;
  const first = await logIn(browser, name);
  await first.context().close();

  const page = await (await browser.newContext()).newPage();
  await page.goto('/');
  await page.getByLabel('Username', { exact: true }).fill(name);
  await page.getByLabel('Password', { exact: true }).fill('wrong password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('alert')).not.toBeEmpty();
  await expect(page.getByRole('heading', { name: 'General' })).toHaveCount(0);
});
