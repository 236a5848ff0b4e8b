import { expect } from '@playwright/test';
import { expectOnline, logIn, messageItem, messages, send, test, uniqueName } from './helpers';

test('a reload keeps the session and the history', async ({ browser }) => {
  const alice = uniqueName('la');
  const bob = uniqueName('lb');
  const alicePage = await logIn(browser, alice);
  const bobPage = await logIn(browser, bob);
  await send(alicePage, `before reload ${alice}`);
  await send(bobPage, `answer ${bob}`);
  await expect(messageItem(alicePage, bob, `answer ${bob}`)).toHaveCount(1);

  await alicePage.reload();
  await expect(alicePage.getByRole('heading', { name: 'General', level: 1 })).toBeVisible();
  await expectOnline(alicePage);
  await expect(alicePage.locator('.me')).toHaveText(alice);
  await expect(messageItem(alicePage, alice, `before reload ${alice}`)).toHaveCount(1);
  await expect(messageItem(alicePage, bob, `answer ${bob}`)).toHaveCount(1);
  // Live again after the reload.
  await send(bobPage, `after reload ${bob}`);
  await expect(messageItem(alicePage, bob, `after reload ${bob}`)).toHaveCount(1);
});

test('offline: three messages queue, then arrive exactly once', async ({ browser }) => {
  const alice = uniqueName('oa');
  const bob = uniqueName('ob');
  const alicePage = await logIn(browser, alice);
  const bobPage = await logIn(browser, bob);

  await alicePage.context().setOffline(true);
  await expect(alicePage.locator('.banner')).toContainText('offline');
  const texts = [1, 2, 3].map((n) => `queued ${n} ${alice}`);
  for (const t of texts) await send(alicePage, t);
  for (const t of texts) {
    await expect(messageItem(alicePage, alice, t)).toContainText('Pending');
  }
  // Kept across a reload while still offline? The page itself cannot load offline,
  // so check the queue is stored instead.
  const stored = await alicePage.evaluate(() =>
    Object.keys(localStorage).filter((k) => k.startsWith('parlor.outbox.')).map((k) => localStorage.getItem(k)).join(''),
  );
  for (const t of texts) expect(stored).toContain(t);

  await alicePage.context().setOffline(false);
  await expectOnline(alicePage);
  for (const t of texts) {
    await expect(messageItem(bobPage, alice, t)).toHaveCount(1);
    await expect(messageItem(alicePage, alice, t)).toHaveCount(1);
    await expect(messageItem(alicePage, alice, t)).not.toContainText('Pending');
  }
  // In order, once each, for both; nothing left queued.
  const order = await messages(bobPage).locator('.message').allInnerTexts();
  const positions = texts.map((t) => order.findIndex((m) => m.includes(t)));
  expect(positions).toEqual([...positions].sort((a, b) => a - b));
  expect(
    await alicePage.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('parlor.outbox.')).length),
  ).toBe(0);

  // Still exactly once for a fresh page of Bob's (history, not just live events).
  await bobPage.reload();
  await expectOnline(bobPage);
  for (const t of texts) await expect(messageItem(bobPage, alice, t)).toHaveCount(1);
});

test('messages queued before a reload are sent after it', async ({ browser }) => {
  const alice = uniqueName('qa');
  const bob = uniqueName('qb');
  const alicePage = await logIn(browser, alice);
  const bobPage = await logIn(browser, bob);
  // Block the socket so the message stays queued, then reload with the socket back.
  await alicePage.context().setOffline(true);
  await send(alicePage, `survives reload ${alice}`);
  await expect(messageItem(alicePage, alice, 'survives reload')).toContainText('Pending');
  await alicePage.context().setOffline(false);
  await alicePage.reload();
  await expectOnline(alicePage);
  await expect(messageItem(bobPage, alice, `survives reload ${alice}`)).toHaveCount(1);
  await expect(messageItem(alicePage, alice, `survives reload ${alice}`)).toHaveCount(1);
});
