import {
  expect,
  test as base,
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  type Page,
} from '@playwright/test';
import { deflateSync } from 'node:zlib';

const contexts: BrowserContext[] = [];

/** Playwright's `test`, closing every context `logIn` opened when the test ends, so
 * that no earlier test's users stay connected (and, say, read messages). */
export const test = base.extend<{ closeContexts: void }>({
  closeContexts: [
    async ({}, use) => {
      await use();
      for (const c of contexts.splice(0)) await c.close().catch(() => {});
    },
    { auto: true },
  ],
});

export const PASSWORD = 'correct horse battery staple';

let counter = 0;
/** A username no other test (or earlier run against the same server) uses. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}${Date.now().toString(36)}${counter}`;
}

/** A page in a new browser context that is closed when the test ends. */
export async function newPage(browser: Browser, options: BrowserContextOptions = {}): Promise<Page> {
  const context = await browser.newContext(options);
  contexts.push(context);
  return context.newPage();
}

/** Opens a new browser context and logs in (registering the name on first use). */
export async function logIn(
  browser: Browser,
  username: string,
  options: BrowserContextOptions = {},
): Promise<Page> {
  const context = await browser.newContext(options);
  contexts.push(context);
  const page = await context.newPage();
  await page.goto('/');
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('heading', { name: 'General', level: 1 })).toBeVisible();
  await expect(page.getByRole('list', { name: 'Messages' })).toBeVisible();
  await expectOnline(page);
  return page;
}

/** Logs in at `url` (a server of a test's own) in a new context, registering the
 * name on first use, and waits until the app is live. */
export async function signInAt(browser: Browser, url: string, name: string): Promise<Page> {
  const page = await newPage(browser);
  await page.goto(url);
  await page.getByLabel('Username', { exact: true }).fill(name);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('heading', { name: 'General', level: 1 })).toBeVisible();
  await expectOnline(page);
  return page;
}

/** Waits until the connection banner is gone (subscribed and live). */
export async function expectOnline(page: Page): Promise<void> {
  await expect(page.locator('.banner')).toHaveCount(0);
}

export function composer(page: Page) {
  return page.getByLabel('Message', { exact: true });
}

export async function send(page: Page, text: string): Promise<void> {
  const box = composer(page);
  await box.fill(text);
  await box.press('Enter');
  await expect(box).toHaveValue('');
}

export function messages(page: Page) {
  return page.getByRole('list', { name: 'Messages' });
}

/** The message items by `author` containing `text`. */
export function messageItem(page: Page, author: string, text: string) {
  return messages(page)
    .getByRole('listitem')
    .filter({ has: page.locator('.author', { hasText: author }) })
    .filter({ hasText: text });
}

export function roomsList(page: Page) {
  return page.getByRole('list', { name: 'Rooms' });
}

export function directList(page: Page) {
  return page.getByRole('list', { name: 'Direct chats' });
}

export function chatEntry(page: Page, list: 'Rooms' | 'Direct chats', name: string) {
  return page
    .getByRole('list', { name: list, exact: true })
    .getByRole('listitem')
    .filter({ hasText: name });
}

/** `name` in the "Online" region only. */
export function onlinePerson(page: Page, name: string) {
  return page
    .getByRole('region', { name: 'Online', exact: true })
    .getByRole('listitem')
    .filter({ has: page.locator('.person-name', { hasText: name }) });
}

/** `name` in the people lists (the "Online" region, or the "Offline" one). */
export function person(page: Page, name: string) {
  return page
    .locator('.people')
    .getByRole('listitem')
    .filter({ has: page.locator('.person-name', { hasText: name }) });
}

/** Opens the direct chat with `name` from the people list. */
export async function openDirect(page: Page, name: string): Promise<void> {
  await person(page, name).getByRole('button').click();
  await expect(page.getByRole('heading', { name, level: 1 })).toBeVisible();
}

export async function openRoom(page: Page, room: string): Promise<void> {
  await chatEntry(page, 'Rooms', room).getByRole('button').click();
  await expect(page.getByRole('heading', { name: room, level: 1 })).toBeVisible();
}

/** A valid PNG of `w`×`h` pixels; `colour` gives each pixel's RGB (one colour by default). */
export function png(
  w: number,
  h: number,
  colour: (x: number, y: number) => [number, number, number] = () => [0x5a, 0x5a, 0x5a],
): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf: Buffer) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const raw = Buffer.alloc(h * (1 + w * 3));
  for (let y = 0; y < h; y++) {
    const start = y * (1 + w * 3);
    for (let x = 0; x < w; x++) {
      const [r, g, b] = colour(x, y);
      raw[start + 1 + x * 3] = r;
      raw[start + 2 + x * 3] = g;
      raw[start + 3 + x * 3] = b;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

