// Browser test of the live calls and "End this call" in Debian's Chromium, driven by
// playwright-core. e2e/live_test.go starts a real guard that listens to its calls, seeds
// the guardians of two households, runs this, and places a risky call through the guard
// once this script has Calls now open (it writes $READY_FILE). Each step throws on
// failure; screenshots go to $SHOTS. The script prints when it pressed "End this call" so
// the test can time the teardown in the SIP traces.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { base, password, shots, launch, step } from './lib.mjs';

const browser = await launch();

async function login(page, email) {
  await page.goto(base + '/login');
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(base + '/');
}

try {
  const son = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await son.newPage();
  step('guardian logs in and opens Calls now before the call');
  await login(page, 'son@example.org');
  await page.getByRole('link', { name: 'Calls now' }).click();
  await page.waitForURL(base + '/live');
  await page.getByText('No call is going on now').waitFor();
  await page.evaluate(() => { window.notReloaded = true; });
  writeFileSync(process.env.READY_FILE, 'ready');

  step('the call appears, then its risk and signs, without a reload');
  const card = page.locator('section.live[data-state="connected"]');
  await card.waitFor({ timeout: 60000 });
  await page.screenshot({ path: `${shots}/live-1-call-appears.png`, fullPage: true });
  await page.locator('section.live .indicators li').first().waitFor({ timeout: 120000 });
  const text = await card.innerText();
  assert.match(text, /On the phone now/);
  assert.match(text, /Screening: warn/);
  assert.match(text, /Risk heard so far: \d+%/);
  assert.match(text, /connected for \d+/);
  assert.equal(await page.evaluate(() => window.notReloaded), true, 'the page kept itself up to date without reloading');
  await page.screenshot({ path: `${shots}/live-2-risk-and-signs.png`, fullPage: true });

  step('with JavaScript off, Calls now shows the call and reloads itself');
  const noJS = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1100, height: 900 } });
  const plain = await noJS.newPage();
  await login(plain, 'son@example.org');
  await plain.goto(base + '/live');
  assert.match(await plain.locator('section.live').first().innerText(), /Risk heard so far/);
  await plain.waitForEvent('load', { timeout: 10000 }); // the <noscript> refresh, after 5 s
  await noJS.close();

  step("another household's guardian sees no call");
  const carer = await browser.newContext();
  const theirs = await carer.newPage();
  await login(theirs, 'carer@example.org');
  await theirs.goto(base + '/live');
  await theirs.getByText('No call is going on now').waitFor();
  assert.equal(await theirs.locator('section.live').count(), 0);
  await carer.close();

  step('ends the call');
  const id = await card.getAttribute('data-call');
  const button = card.getByRole('button', { name: 'End this call' });
  await button.waitFor();
  console.log(`end pressed at ${Date.now()} for ${id}`);
  await button.click();
  await page.waitForURL(new RegExp(`/calls/${id}\\?flash=`));
  assert.match(await page.locator('.flash').innerText(), /You ended this call/);
  await page.screenshot({ path: `${shots}/live-3-ended.png`, fullPage: true });

  step('the page says who ended it once the resident has heard why, without a reload');
  await page.locator('p.lead', { hasText: 'ended by the guardian (son)' }).waitFor({ timeout: 20000 });
  assert.equal(await page.getByRole('button', { name: 'End this call' }).count(), 0);
  await page.screenshot({ path: `${shots}/live-4-recorded.png`, fullPage: true });
  console.log('ok: all browser steps passed');
} finally {
  await browser.close();
}
