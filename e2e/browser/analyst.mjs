// Browser test of the regional hub in Debian's Chromium, driven by playwright-core.
// e2e/browser_test.go starts a guard that embeds the hub, seeds an analyst, and runs this.
// A relative reports two calls through the public form (one refused first, field by
// field), then the analyst finds the campaign, reads its map and chart, exports it, has a
// bad alert refused, sends one to Winchester and confirms the number for every guard.
import assert from 'node:assert/strict';
import { base, number, password, shots, launch, step } from './lib.mjs';

const browser = await launch();
// datetime-local wants wall-clock time in Europe/London; UTC is at most an hour behind it,
// which only makes these reports an hour older.
const local = (h) => new Date(Date.now() - h * 3600e3).toISOString().slice(0, 16);

async function report(page, district, when, first) {
  await page.goto(base + '/report');
  await page.getByLabel('Who are you?').selectOption('relative');
  await page.getByLabel('When?').fill(when);
  await page.getByLabel(/Where\?/).fill(district);
  await page.getByLabel("The caller's number, if it showed").fill(first ? 'not a number' : number);
  await page.getByLabel('Who did they say they were?').selectOption('police');
  await page.getByLabel('The name they gave').fill('DS Miller');
  await page.getByLabel('What did they ask for?', { exact: false }).fill('cash as evidence');
  await page.getByLabel('What happened, in your own words').fill('He said Mum\'s account was used for fraud and asked her to withdraw cash.');
  await page.getByRole('button', { name: 'Send the report' }).click();
}

try {
  const person = await browser.newContext({ viewport: { width: 420, height: 900 } });
  const p = await person.newPage();
  step('a relative reports a call with a bad number and is told what is wrong');
  await report(p, 'Winchester', local(30), true);
  assert.match(await p.locator('#number-error').innerText(), /not a phone number/);
  assert.equal(await p.getByLabel(/Where\?/).inputValue(), 'Winchester', 'answers are kept');
  await p.screenshot({ path: `${shots}/hub-1-report-refused.png`, fullPage: true });

  step('reports it properly, and a second call in Test Valley');
  await report(p, 'Winchester', local(30), false);
  assert.match(await p.locator('#report-id').innerText(), /^p-/);
  await p.screenshot({ path: `${shots}/hub-2-report-received.png`, fullPage: true });
  await report(p, 'Test Valley', local(6), false);
  assert.match(await p.locator('#report-id').innerText(), /^p-/);

  step('the analyst logs in and finds the campaign');
  const analyst = await browser.newContext({ viewport: { width: 1200, height: 1000 }, acceptDownloads: true });
  const a = await analyst.newPage();
  await a.goto(base + '/login');
  await a.getByLabel('E-mail').fill('analyst@example.org');
  await a.getByLabel('Password').fill(password);
  await a.getByRole('button', { name: 'Log in' }).click();
  await a.waitForURL(base + '/hub');
  const link = a.locator('table.campaigns a').first();
  await link.click();
  await a.waitForURL(/\/hub\/campaigns\//);

  step('reads the map and the district-by-day chart');
  const map = a.locator('svg.map');
  await map.waitFor();
  assert.equal(await a.locator('svg.map rect.hit').count(), 2, 'two districts lit on the map');
  assert.match(await a.locator('svg[aria-label="Reports per district per day"]').innerHTML(), /Test Valley/);
  assert.match(await a.locator('ol.spread').innerText(), /reached Winchester/);
  await a.screenshot({ path: `${shots}/hub-3-campaign.png`, fullPage: true });

  step('exports the reports as CSV');
  const [download] = await Promise.all([a.waitForEvent('download'), a.getByRole('link', { name: /Export the reports/ }).click()]);
  const csv = await (await import('node:fs/promises')).readFile(await download.path(), 'utf8');
  assert.match(csv.split('\n')[0], /^campaign,report_id,date_time_utc,district/);
  assert.equal(csv.trim().split('\n').length, 3, 'a header and two reports');

  step('a community alert without a body is refused next to the field');
  await a.getByLabel('What the callers say, and what to do').fill('');
  await a.getByRole('button', { name: 'Send the alert' }).click();
  assert.match(await a.locator('#body-error').innerText(), /required/);

  step('sends the alert to Winchester only');
  await a.getByLabel('What the callers say, and what to do').fill('Callers say they are DS Miller of the police and ask for cash. Hang up and ring 101 from another phone.');
  await a.getByLabel(/Districts, one per line/).fill('Winchester');
  await a.getByRole('button', { name: 'Send the alert' }).click();
  await a.waitForURL(/flash=/);
  assert.match(await a.locator('.flash').innerText(), /sent to Winchester/);

  step('confirms the number for every guard');
  await a.getByRole('button', { name: /Confirm: block these numbers/ }).click();
  await a.waitForURL(/flash=/);
  assert.match(await a.locator('.flash').innerText(), /1 numbers added to the shared block-list/);
  assert.match(await a.locator('ul.numbers').innerText(), /blocked on every guard/);
  await a.screenshot({ path: `${shots}/hub-4-confirmed.png`, fullPage: true });

  console.log('ok: all browser steps passed');
} finally {
  await browser.close();
}
