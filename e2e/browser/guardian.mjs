// Browser test of the guardians' dashboard in Debian's Chromium, driven by playwright-core.
// e2e/browser_test.go starts a real guard, places a warned call through it, seeds the
// people, and runs this with the addresses and names below in the environment. Each step
// throws on failure; screenshots go to $SHOTS.
import assert from 'node:assert/strict';
import { base, number, password, shots, launch, step } from './lib.mjs';

const callID = process.env.CALL_ID;
const browser = await launch();

async function login(page, email) {
  await page.goto(base + '/login');
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(base + '/');
}

try {
  // A guardian logs in, opens the warned call and reads why it was warned.
  const son = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await son.newPage();
  step('guardian logs in');
  await login(page, 'son@example.org');
  await assert.doesNotReject(page.getByRole('heading', { name: "Mum's house" }).waitFor());
  await page.screenshot({ path: `${shots}/1-today.png`, fullPage: true });

  step('opens the warned call from the call list');
  await page.getByRole('link', { name: 'Calls', exact: true }).click();
  await page.locator(`a[href="/calls/${callID}"]`).click();
  await page.waitForURL(`${base}/calls/${callID}`);
  const reasons = await page.locator('ul.reasons').innerText();
  assert.match(reasons, /Police/, 'the reason names the police display name');
  assert.match(await page.locator('h1').innerText(), new RegExp(number.replace('+', '\\+')));
  await page.screenshot({ path: `${shots}/2-call-story.png`, fullPage: true });

  step('blocks the number');
  await page.getByRole('button', { name: `Block ${number}` }).click();
  await page.waitForURL(/flash=/);
  assert.match(await page.locator('.flash').innerText(), /Blocked/);
  assert.match(await page.locator('body').innerText(), /on the block-list/);
  await page.screenshot({ path: `${shots}/3-blocked.png`, fullPage: true });

  step('acknowledges the alert');
  await page.getByRole('link', { name: 'Alerts', exact: true }).click();
  await page.locator('.alert.open').first().waitFor();
  assert.match(await page.locator('.alert.open').first().innerText(), /Possible scam call to Mum's house/);
  await page.getByRole('button', { name: 'I am dealing with this' }).first().click();
  await page.waitForURL(base + '/alerts');
  assert.match(await page.locator('.alert').first().innerText(), /Acknowledged by son/);
  await page.screenshot({ path: `${shots}/4-alert-acknowledged.png`, fullPage: true });

  step('a bad setting is refused next to its field');
  await page.goto(`${base}/households/mum`);
  await page.getByLabel('Warn when the risk reaches (0 to 1)').fill('7');
  await page.getByRole('button', { name: 'Save' }).click();
  const err = page.locator('#warn_at-error');
  await err.waitFor();
  assert.match(await err.innerText(), /between 0 and 1|at most 1/);
  assert.equal(await page.locator('#warn_at').getAttribute('aria-invalid'), 'true');
  await page.screenshot({ path: `${shots}/5-bad-setting.png`, fullPage: true });

  step('on a phone screen the call story still reads');
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, storageState: await son.storageState() });
  const small = await phone.newPage();
  await small.goto(`${base}/calls/${callID}`);
  const width = await small.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 400, `the page is ${width}px wide on a 390px screen`);
  await small.screenshot({ path: `${shots}/6-phone.png`, fullPage: true });

  // A guardian of another household sees none of it, on the page or through the API.
  step('another household\'s guardian is kept out');
  const carer = await browser.newContext();
  const other = await carer.newPage();
  await login(other, 'carer@example.org');
  const res = await other.goto(`${base}/calls/${callID}`);
  assert.equal(res.status(), 404);
  const api = await other.request.get(`${base}/api/v1/calls/${callID}`);
  assert.equal(api.status(), 404);
  const alerts = await (await other.request.get(`${base}/api/v1/alerts`)).json();
  assert.equal(alerts.alerts.length, 0, 'no alerts of another household');
  await other.goto(`${base}/alerts`);
  await other.screenshot({ path: `${shots}/7-other-household.png`, fullPage: true });
  console.log('ok: all browser steps passed');
} finally {
  await browser.close();
}
