import { expect } from '@playwright/test';
import { logIn, messageItem, send, test, uniqueName } from './helpers';

test('a reaction shows on the other side with its count and who', async ({ browser }) => {
  const alice = uniqueName('ra');
  const bob = uniqueName('rb');
  const alicePage = await logIn(browser, alice);
  const bobPage = await logIn(browser, bob);
  const text = `The boiler is fixed ${alice}`;
  await send(alicePage, text);
  const onBob = messageItem(bobPage, alice, text);
  const onAlice = messageItem(alicePage, alice, text);

  // bob reacts from the quick row.
  await onBob.getByRole('button', { name: 'React', exact: true }).click();
  await onBob.getByRole('button', { name: 'React with 👍 thumbs up' }).click();
  const thumbs = onAlice.getByRole('button', { name: `👍 1: ${bob}` });
  await expect(thumbs).toBeVisible();
  await expect(thumbs).toHaveAttribute('aria-pressed', 'false');
  await expect(thumbs).toHaveAttribute('title', `👍 1: ${bob}`);
  await expect(onBob.getByRole('button', { name: `👍 1: ${bob}` })).toHaveAttribute('aria-pressed', 'true');

  // alice joins in: counted once per person, on both sides.
  await thumbs.click();
  const two = `👍 2: ${bob}, ${alice}`;
  await expect(onBob.getByRole('button', { name: two })).toBeVisible();
  await expect(onAlice.getByRole('button', { name: two })).toHaveAttribute('aria-pressed', 'true');

  // Any emoji of Unicode, found by name in the picker (its table loads on first use).
  await onAlice.getByRole('button', { name: 'React', exact: true }).click();
  await onAlice.getByRole('button', { name: 'More emoji…' }).click();
  const picker = alicePage.getByRole('dialog', { name: 'Choose an emoji' });
  const search = picker.getByRole('searchbox', { name: 'Search emoji by name' });
  await expect(search).toBeFocused();
  await search.fill('flamingo');
  await expect(picker.getByRole('option', { name: 'flamingo' })).toHaveAttribute('aria-selected', 'true');
  await search.press('Enter');
  await expect(picker).toHaveCount(0);
  await expect(onBob.getByRole('button', { name: `🦩 1: ${alice}` })).toBeVisible();

  // Arrow keys move through the results, Escape closes without reacting.
  await onBob.getByRole('button', { name: 'React', exact: true }).click();
  await onBob.getByRole('button', { name: 'More emoji…' }).click();
  const bobPicker = bobPage.getByRole('dialog', { name: 'Choose an emoji' });
  await bobPicker.getByRole('searchbox').fill('heart');
  await bobPicker.getByRole('searchbox').press('ArrowRight');
  await expect(bobPicker.getByRole('option').nth(1)).toHaveAttribute('aria-selected', 'true');
  await bobPicker.getByRole('searchbox').press('Escape');
  await expect(bobPicker).toHaveCount(0);

  // bob takes his back.
  await onBob.getByRole('button', { name: two }).click();
  await expect(onAlice.getByRole('button', { name: `👍 1: ${alice}` })).toBeVisible();
  await expect(onAlice.getByRole('button', { name: two })).toHaveCount(0);
});

test('a pinned message appears in the pinned list on the other side', async ({ browser }) => {
  const alice = uniqueName('pa');
  const bob = uniqueName('pb');
  const alicePage = await logIn(browser, alice);
  const bobPage = await logIn(browser, bob);
  const text = `Meeting on Friday ${alice}`;
  await send(alicePage, text);

  await messageItem(bobPage, alice, text).getByRole('button', { name: 'Pin', exact: true }).click();
  await expect(messageItem(bobPage, alice, text).getByRole('button', { name: 'Unpin', exact: true })).toBeVisible();

  await alicePage.getByRole('button', { name: /^Pinned \(\d+\)$/ }).click();
  const list = alicePage.getByRole('dialog', { name: 'Pinned messages' });
  const entry = list.getByRole('listitem').filter({ hasText: text });
  await expect(entry).toContainText(alice);
  await expect(entry).toContainText(`pinned by ${bob}`);
  await entry.getByRole('button').click();
  await expect(list).toHaveCount(0);
  await expect(messageItem(alicePage, alice, text)).toBeFocused();
});
