import { expect, type Page } from '@playwright/test';
import { logIn, messageItem, PASSWORD, send, test, uniqueName } from './helpers';

/** Registers `user` on a WebSocket of its own (from `page`) and posts `count` messages
 * to #General, pipelined, waiting for every answer: history the reader has not loaded. */
async function postMany(page: Page, user: string, count: number): Promise<void> {
  await page.evaluate(
    async ({ user, count, password }) => {
      await new Promise<void>((resolve, reject) => {
        const ws = new WebSocket(`ws://${location.host}/ws`);
        const frame = (id: string, payloadType: string, payload: unknown) =>
          JSON.stringify({ type: 'request', id, timestamp: Date.now(), payloadType, payload });
        let answered = 0;
        ws.onopen = () => ws.send(frame('a', 'auth', { username: user, password }));
        ws.onmessage = (ev) => {
          const f = JSON.parse(ev.data as string);
          if (f.type !== 'response') return;
          if (f.error) return reject(new Error(JSON.stringify(f.error)));
          if (f.id === 'a') {
            for (let i = 0; i < count; i += 1) {
              ws.send(frame(`n${i}`, 'new', { chatId: '#General', message: `filler ${i} from ${user}` }));
            }
            return;
          }
          answered += 1;
          if (answered === count) {
            ws.close();
            resolve();
          }
        };
        ws.onerror = () => reject(new Error('socket error'));
      });
    },
    { user, count, password: PASSWORD },
  );
}

test('search finds an older message, highlights the word, and opens it in its conversation', async ({ browser }) => {
  const alice = uniqueName('sa');
  const bob = uniqueName('sb');
  const suffix = Date.now().toString(36);
  const word = `chaudière${suffix}`;
  const target = `The ${word} needs a plumber`;

  const alicePage = await logIn(browser, alice);
  await send(alicePage, target);
  // 120 newer messages (two senders: the rate limit is 100 a minute each): the
  // target is far older than the first page a reader loads (50).
  await postMany(alicePage, uniqueName('fa'), 60);
  await postMany(alicePage, uniqueName('fb'), 60);

  const bobPage = await logIn(browser, bob);
  await expect(bobPage.getByRole('listitem').filter({ hasText: 'filler 59 from' }).first()).toBeVisible();
  await expect(messageItem(bobPage, alice, target)).toHaveCount(0);

  const search = bobPage.getByRole('search', { name: 'Search messages' });
  const box = search.getByRole('searchbox', { name: 'Search messages' });
  // Without the accent: the index folds diacritics, and the highlight is the word as written.
  await box.fill(`chaudiere${suffix}`);
  await box.press('Enter');
  const results = bobPage.getByRole('region', { name: 'Search results' });
  const hit = results.getByRole('listitem').filter({ hasText: 'needs a plumber' });
  await expect(hit).toHaveCount(1);
  await expect(hit.locator('mark')).toHaveText(word);
  await expect(hit).toContainText(alice);
  await expect(hit).toContainText('#General');
  await expect(results.getByRole('status')).toHaveText('1 message found');

  await hit.getByRole('button').click();
  const shown = messageItem(bobPage, alice, target);
  await expect(shown).toHaveCount(1);
  await expect(shown).toBeInViewport();

  await box.fill(`nothinghere${suffix}`);
  await box.press('Enter');
  await expect(results.getByRole('status')).toHaveText('No messages found');

  // A query of filters alone is refused at once, saying why.
  await box.fill(`from:${alice}`);
  await box.press('Enter');
  await expect(bobPage.getByRole('alert').filter({ hasText: 'type a word' })).toBeVisible();
});
