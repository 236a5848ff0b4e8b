import { expect } from '@playwright/test';
import { chatEntry, composer, logIn, messageItem, messages, openDirect, person, send, test, uniqueName } from './helpers';

test('scrolling up loads older pages, each message once', async ({ browser }) => {
  const alice = uniqueName('ha');
  const bob = uniqueName('hb');
  const alicePage = await logIn(browser, alice);
  // Use a room of their own so that other tests' messages do not interleave.
  const room = uniqueName('History');
  await alicePage.getByRole('button', { name: 'New room' }).click();
  await alicePage.getByLabel('Room name').fill(room);
  await alicePage.getByLabel('Room name').press('Enter');
  await expect(alicePage.getByRole('heading', { name: room, level: 1 })).toBeVisible();
  for (let i = 1; i <= 70; i++) await send(alicePage, `history ${i} of ${alice}`);
  await expect(messageItem(alicePage, alice, `history 70 of ${alice}`).locator('.seen, .state')).toHaveCount(0);

  const bobPage = await logIn(browser, bob);
  await bobPage.getByRole('button', { name: 'Browse rooms' }).click();
  await bobPage.getByRole('button', { name: `Join ${room}` }).click();
  await expect(messageItem(bobPage, alice, `history 70 of ${alice}`)).toBeVisible();
  // Only the latest page at first.
  await expect(messageItem(bobPage, alice, `history 1 of ${alice}`)).toHaveCount(0);
  await bobPage.locator('.scroller').evaluate((el) => { el.scrollTop = 0; });
  await expect(messageItem(bobPage, alice, `history 1 of ${alice}`)).toHaveCount(1);
  await expect(messages(bobPage).locator('.message')).toHaveCount(70);
  // Reading older messages keeps the reader where they were, not at the end.
  await expect(messageItem(bobPage, alice, `history 70 of ${alice}`)).not.toBeInViewport();
});

test('a hidden tab gets a title badge and a notification for a DM; read once visible', async ({ browser }) => {
  const alice = uniqueName('na');
  const bob = uniqueName('nb');
  const bobPage = await logIn(browser, bob);
  const context = await browser.newContext();
  // Let the test hide the page, and record notifications.
  await context.addInitScript(() => {
    const w = window as unknown as { __hidden: boolean; __notes: string[] };
    w.__hidden = false;
    w.__notes = [];
    Object.defineProperty(document, 'hidden', { get: () => w.__hidden });
    Object.defineProperty(document, 'visibilityState', { get: () => (w.__hidden ? 'hidden' : 'visible') });
    class FakeNotification {
      static permission = 'granted';
      static requestPermission() { return Promise.resolve('granted'); }
      onclick: (() => void) | null = null;
      constructor(title: string, options?: { body?: string }) { w.__notes.push(`${title}: ${options?.body ?? ''}`); }
      close() {}
    }
    (window as unknown as { Notification: unknown }).Notification = FakeNotification;
  });
  const alicePage = await context.newPage();
  await alicePage.goto('/');
  await alicePage.getByLabel('Username', { exact: true }).fill(alice);
  await alicePage.getByLabel('Password', { exact: true }).fill('correct horse battery staple');
  await alicePage.getByRole('button', { name: 'Log in' }).click();
  await expect(alicePage.locator('.banner')).toHaveCount(0);
  await expect(person(alicePage, bob)).toContainText('online');

  const hide = (hidden: boolean) =>
    alicePage.evaluate((h) => {
      (window as unknown as { __hidden: boolean }).__hidden = h;
      document.dispatchEvent(new Event('visibilitychange'));
    }, hidden);
  await hide(true);
  await openDirect(bobPage, alice);
  await send(bobPage, `are you there ${bob}`);
  await expect(alicePage).toHaveTitle('(1) Parlor');
  await expect
    .poll(() => alicePage.evaluate(() => (window as unknown as { __notes: string[] }).__notes))
    .toEqual([`${bob}: are you there ${bob}`]);
  // A room message without a mention does not notify; a mention does.
  await bobPage.getByRole('list', { name: 'Rooms' }).getByRole('button', { name: /General/ }).click();
  await send(bobPage, `plain room message ${bob}`);
  await send(bobPage, `hey @${alice} look`);
  await expect(alicePage).toHaveTitle('(2) Parlor');
  await expect
    .poll(() => alicePage.evaluate(() => (window as unknown as { __notes: string[] }).__notes.length))
    .toBe(2);
  expect(await alicePage.title()).toBe('(2) Parlor');
  // Delivered but not read while hidden.
  await openDirect(bobPage, alice);
  await expect(messageItem(bobPage, bob, `are you there ${bob}`).locator('.mark')).toHaveText(/Delivered/);

  await hide(false);
  await expect(alicePage).toHaveTitle('Parlor');
  await chatEntry(alicePage, 'Direct chats', bob).getByRole('button').click();
  await expect(messageItem(bobPage, bob, `are you there ${bob}`).locator('.mark')).toHaveText(/Read/);
  await context.close();
});

test('an idle tab shows as away, and online again on activity', async ({ browser }) => {
  const alice = uniqueName('wa');
  const bob = uniqueName('wb');
  const alicePage = await logIn(browser, alice);
  const context = await browser.newContext();
  await context.clock.install();
  const bobPage = await context.newPage();
  await bobPage.goto('/');
  await bobPage.getByLabel('Username', { exact: true }).fill(bob);
  await bobPage.getByLabel('Password', { exact: true }).fill('correct horse battery staple');
  await bobPage.getByRole('button', { name: 'Log in' }).click();
  await expect(bobPage.locator('.banner')).toHaveCount(0);
  await expect(person(alicePage, bob)).toContainText('online');

  await bobPage.clock.fastForward('03:00');
  await expect(person(alicePage, bob)).toContainText('away');
  await composer(bobPage).press('a');
  await expect(person(alicePage, bob)).toContainText('online');
  await context.close();
});
