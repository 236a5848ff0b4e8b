import { expect, type Browser, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PASSWORD, composer, expectOnline, logIn, messageItem, openDirect, openRoom, png, send, test } from './helpers';

// Screenshots for the README: `PARLOR_SCREENSHOTS=1 npx playwright test screenshots`
// against a fresh server (the names below must be free). Skipped in normal runs.
const OUT = join(__dirname, '..', '..', 'docs', 'screenshots');
test.skip(!process.env.PARLOR_SCREENSHOTS, 'set PARLOR_SCREENSHOTS=1 to make the README screenshots');
test.setTimeout(120_000);

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

async function viewAs(browser: Browser, name: string, scheme: 'light' | 'dark', phone: boolean): Promise<Page> {
  const context = await browser.newContext({
    colorScheme: scheme,
    viewport: phone ? PHONE : DESKTOP,
    deviceScaleFactor: phone ? 2 : 1,
    isMobile: phone,
    hasTouch: phone,
  });
  const page = await context.newPage();
  await page.goto('/');
  await page.getByLabel('Username', { exact: true }).fill(name);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expectOnline(page);
  return page;
}

async function shot(page: Page, file: string) {
  // Let images load and the list settle at its end.
  await page.waitForLoadState('networkidle');
  await page.evaluate(() => document.fonts.ready);
  // No hover toolbar left over from the last click.
  await page.mouse.move(1, 1);
  await page.screenshot({ path: join(OUT, file) });
}

test('README screenshots', async ({ browser }) => {
  mkdirSync(OUT, { recursive: true });
  const alice = await logIn(browser, 'alice');
  const bob = await logIn(browser, 'bob');
  const carol = await logIn(browser, 'carol');

  // Rooms.
  for (const room of ['Book club', 'Garden']) {
    await alice.getByRole('button', { name: 'New room' }).click();
    await alice.getByLabel('Room name').fill(room);
    await alice.getByLabel('Room name').press('Enter');
    await expect(alice.getByRole('heading', { name: room, level: 1 })).toBeVisible();
  }
  for (const p of [bob, carol]) {
    await p.getByRole('button', { name: 'Browse rooms' }).click();
    await p.getByRole('button', { name: 'Join Garden' }).click();
    await expect(p.getByRole('heading', { name: 'Garden', level: 1 })).toBeVisible();
  }
  await openRoom(alice, 'General');
  for (const p of [bob, carol]) await openRoom(p, 'General');

  await send(alice, 'Morning all! Who is coming to the garden day on Saturday?');
  // A photo.
  await carol.getByLabel('Attach file').setInputFiles({
    name: 'seedlings.png',
    mimeType: 'image/png',
    buffer: png(480, 300, (x, y) => {
      const sky = y < 150;
      const leaf = Math.sin(x / 18) * 30 + 210 < y || (y > 180 && ((x / 40) | 0) % 2 === 0);
      if (sky) return [120 + (y >> 2), 170 + (y >> 3), 235];
      if (leaf) return [50, 140 + ((x * 7) % 50), 70];
      return [140, 100, 60];
    }),
  });
  await expect(carol.getByRole('list', { name: 'Attachments to send' })).toContainText('seedlings.png');
  await composer(carol).fill('They are ready, three trays of basil and two of tomatoes.');
  await composer(carol).press('Enter');
  await expect(messageItem(alice, 'carol', 'They are ready')).toHaveCount(1);
  // A file of any type: a card with its name and size.
  await alice.getByLabel('Attach file').setInputFiles({
    name: 'garden-plan.pdf',
    mimeType: 'application/pdf',
    buffer: Buffer.from('%PDF-1.4\n' + '% the plan of the beds\n'.repeat(400) + '%%EOF\n'),
  });
  await expect(alice.getByRole('list', { name: 'Attachments to send' })).toContainText('garden-plan.pdf');
  await composer(alice).fill('The plan of the beds, and `gate code` is in the pinned messages.');
  await composer(alice).press('Enter');
  await expect(messageItem(bob, 'alice', 'The plan of the beds')).toHaveCount(1);
  // Pinned, so the header lists it.
  const plan = messageItem(alice, 'alice', 'The plan of the beds');
  await plan.hover();
  await plan.getByRole('button', { name: 'Pin', exact: true }).click();
  await expect(alice.getByRole('button', { name: 'Pinned (1)' })).toBeVisible();
  // Formatting, a link, a mention and a reply: the end of the conversation, in view.
  await send(bob, 'Count me in. I can bring the **big ladder**.');
  await send(carol, 'Me too! @alice should I bring the seedlings?');
  await messageItem(alice, 'carol', 'should I bring the seedlings').getByRole('button', { name: 'Reply to carol' }).click();
  await send(alice, 'Yes please, the basil especially.');
  // Reactions on bob's message.
  const ladder = 'Count me in.';
  for (const [p, emoji] of [[alice, 'React with 🎉 party popper'], [carol, 'React with 🎉 party popper'], [carol, 'React with 👍 thumbs up']] as const) {
    const item = messageItem(p, 'bob', ladder);
    await item.hover();
    await item.getByRole('button', { name: 'React', exact: true }).click();
    await p.getByRole('button', { name: emoji }).click();
  }
  await expect(messageItem(alice, 'bob', ladder).getByRole('button', { name: /^🎉 2/ })).toBeVisible();
  await send(alice, 'See you there!');

  // A direct chat and an unread room message.
  await openDirect(bob, 'alice');
  await send(bob, 'Can you lend me your wheelbarrow?');
  await openRoom(carol, 'Garden');
  await send(carol, 'Gate code is 4711');
  await bob.getByLabel('Status').selectOption('away');
  await carol.getByLabel('Status').selectOption('busy');
  for (const p of [alice, bob, carol]) await p.context().close();

  for (const scheme of ['light', 'dark'] as const) {
    // Desktop: General, with bob typing.
    const desk = await viewAs(browser, 'alice', scheme, false);
    const typer = await viewAs(browser, 'bob', scheme, false);
    await expect(messageItem(desk, 'alice', 'See you there')).toHaveCount(1);
    await composer(typer).pressSequentially('On my');
    await expect(desk.locator('.typing')).toHaveText('bob is typing…');
    await shot(desk, `desktop-${scheme}.png`);

    // Desktop: the direct chat with read marks (bob reads it).
    await openDirect(desk, 'bob');
    if (scheme === 'light') {
      await send(desk, 'Sure, it is by the shed.');
      await send(desk, 'Bring it back by Sunday?');
      await openDirect(typer, 'alice');
      await send(typer, 'Thanks, will do!');
    }
    await expect(messageItem(desk, 'alice', 'Bring it back').locator('.mark')).toHaveText(/Read/);
    await composer(desk).fill('');
    await shot(desk, `desktop-dm-${scheme}.png`);
    // Search: every chat alice can read, the words marked.
    await desk.getByRole('searchbox', { name: 'Search messages' }).fill('basil');
    await desk.getByRole('searchbox', { name: 'Search messages' }).press('Enter');
    await expect(desk.getByRole('region', { name: 'Search results' }).getByRole('status')).toHaveText(/found/);
    await shot(desk, `desktop-search-${scheme}.png`);
    await typer.context().close();
    await desk.context().close();

    // Phone: the chat, and the drawer.
    const phone = await viewAs(browser, 'alice', scheme, true);
    await openPhoneChat(phone, 'General');
    await expect(messageItem(phone, 'alice', 'See you there')).toHaveCount(1);
    await shot(phone, `phone-${scheme}.png`);
    await phone.getByRole('button', { name: /^Chats/ }).click();
    await expect(phone.getByRole('list', { name: 'Rooms' })).toBeVisible();
    await shot(phone, `phone-drawer-${scheme}.png`);
    await phone.context().close();
  }

  // The login screen.
  for (const scheme of ['light', 'dark'] as const) {
    const context = await browser.newContext({ colorScheme: scheme, viewport: DESKTOP });
    const page = await context.newPage();
    await page.goto('/');
    await expect(page.getByRole('button', { name: 'Log in' })).toBeVisible();
    await shot(page, `login-${scheme}.png`);
    await context.close();
  }
});

async function openPhoneChat(page: Page, room: string) {
  const heading = page.getByRole('heading', { name: room, level: 1 });
  if (await heading.isVisible()) return;
  await page.getByRole('button', { name: /^Chats/ }).click();
  await page.getByRole('list', { name: 'Rooms' }).getByRole('button', { name: new RegExp(room) }).click();
  await expect(heading).toBeVisible();
}
