import { expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { composer, logIn, messageItem, openDirect, test, uniqueName } from './helpers';

/** A small PDF with every byte value in it, so that any re-encoding would show. */
function pdf(): Buffer {
  const bytes = Array.from({ length: 256 }, (_, i) => i);
  return Buffer.concat([
    Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n'),
    Buffer.from(bytes),
    Buffer.from('\ntrailer << /Root 1 0 R >>\n%%EOF\n'),
  ]);
}

test('a PDF is sent, listed by name, and downloads the same bytes', async ({ browser }) => {
  const alice = uniqueName('fa');
  const bob = uniqueName('fb');
  const alicePage = await logIn(browser, alice);
  const bobPage = await logIn(browser, bob);

  await alicePage.getByLabel('Attach file').setInputFiles({
    name: 'minutes.pdf',
    mimeType: 'application/pdf',
    buffer: pdf(),
  });
  await expect(alicePage.getByRole('list', { name: 'Attachments to send' })).toContainText('minutes.pdf');
  await composer(alicePage).fill(`the minutes ${alice}`);
  await alicePage.getByRole('button', { name: 'Send' }).click();

  const card = messageItem(bobPage, alice, `the minutes ${alice}`).getByRole('link', { name: /^minutes\.pdf \d/ });
  await expect(card).toBeVisible();
  await expect(card).toHaveAccessibleName(`minutes.pdf ${pdf().length} B`);
  const [download] = await Promise.all([bobPage.waitForEvent('download'), card.click()]);
  expect(download.suggestedFilename()).toBe('minutes.pdf');
  const path = await download.path();
  expect(readFileSync(path).equals(pdf())).toBe(true);
  // Never shown as an image or a page.
  await expect(messageItem(bobPage, alice, `the minutes ${alice}`).getByRole('img')).toHaveCount(0);
});

test('@ offers the other person as an option and inserts the name', async ({ browser }) => {
  const alice = uniqueName('ma');
  const bob = uniqueName('mb');
  const alicePage = await logIn(browser, alice);
  await logIn(browser, bob);
  await openDirect(alicePage, bob);

  const box = composer(alicePage);
  await box.fill('');
  await box.pressSequentially(`hi @${bob.slice(0, 3)}`);
  const list = alicePage.getByRole('listbox', { name: 'People to mention' });
  const option = list.getByRole('option', { name: bob });
  await expect(option).toBeVisible();
  await expect(option).toHaveAttribute('aria-selected', 'true');
  await expect(box).toHaveAttribute('aria-activedescendant', (await option.getAttribute('id')) ?? '');
  await box.press('Enter');
  await expect(box).toHaveValue(`hi @${bob} `);
  await expect(list).toHaveCount(0);

  // Escape closes; a click picks.
  await box.pressSequentially('and @');
  await expect(option).toBeVisible();
  await box.press('Escape');
  await expect(list).toHaveCount(0);
  await box.pressSequentially(bob.slice(0, 2));
  await list.getByRole('option', { name: bob }).click();
  await expect(box).toHaveValue(`hi @${bob} and @${bob} `);
});

test('the notification level of a chat is chosen in its header and kept', async ({ browser }) => {
  const alice = uniqueName('na');
  const page = await logIn(browser, alice);
  const select = page.getByRole('combobox', { name: 'Notifications' });
  await expect(select).toHaveValue('all');
  await select.selectOption({ label: 'Mentions only' });
  await expect(select).toHaveValue('mentions');
  await page.reload();
  await expect(page.getByRole('heading', { name: 'General', level: 1 })).toBeVisible();
  await expect(page.getByRole('combobox', { name: 'Notifications' })).toHaveValue('mentions');
});
