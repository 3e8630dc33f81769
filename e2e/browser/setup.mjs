// Browser test of the first-run setup in Debian's Chromium, driven by playwright-core.
// e2e/setup_test.go starts a guard nobody can log in to, passes the setup code from its
// log, the provider's address and an alert inbox, and registers a SIPp phone once the
// setup has saved its password. The happy path's actions are counted: at most 15.
import assert from 'node:assert/strict';
import { base, shots, launch, step } from './lib.mjs';

const code = process.env.SETUP_CODE;
const trunk = process.env.TRUNK;
const inbox = process.env.INBOX;
const browser = await launch();
let actions = 0;
const act = async (p) => { actions++; return p; };

try {
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 1000 } });
  const page = await ctx.newPage();

  step('the dashboard leads to the setup, and a wrong code is refused next to its field');
  await page.goto(base + '/');
  await page.waitForURL(base + '/setup');
  await page.getByLabel('Setup code').fill('ABCD-EFGH-JKLM');
  await page.getByRole('button', { name: 'Start setting up' }).click();
  assert.match(await page.locator('#code-error').innerText(), /not the code/);
  assert.equal(await page.locator('#code').getAttribute('aria-invalid'), 'true');
  const refused = await page.request.get(base + '/setup/line', { maxRedirects: 0 });
  assert.equal(refused.status(), 303, 'no setup page without the code');
  await page.screenshot({ path: `${shots}/setup-1-wrong-code.png`, fullPage: true });

  step('types the code (lower case, without dashes)');
  await act(page.getByLabel('Setup code').fill(code.toLowerCase().replaceAll('-', '')));
  await act(page.getByRole('button', { name: 'Start setting up' }).click());
  await page.waitForURL(base + '/setup/line');

  step('bad values are named next to their fields, and nothing is saved');
  const before = await (await page.request.get(base + '/setup/clearline.yaml')).text();
  await page.getByLabel("The provider's SIP server").fill('pro vider');
  await page.getByLabel("The household's phone number").fill('call me');
  await page.getByLabel('The bank, from the back of the card').fill('the bank');
  await page.getByLabel('The phones, one name a line').fill('kitchen\nMum\'s phone');
  await page.getByRole('button', { name: 'Save and connect' }).click();
  for (const [field, msg] of [['address', /host must be an IP address or a name/], ['number', /phone number/], ['bank', /phone number/], ['phones', /one word/]]) {
    assert.match(await page.locator(`#${field}-error`).innerText(), msg, field);
    assert.equal(await page.locator(`#${field}`).getAttribute('aria-invalid'), 'true', field);
  }
  await page.screenshot({ path: `${shots}/setup-2-bad-values.png`, fullPage: true });
  const after = await (await page.request.get(base + '/setup/clearline.yaml')).text();
  assert.equal(after, before, 'the configuration in force is unchanged');

  step('fills in the provider, the number and the bank (the rest is filled in already)');
  await page.getByLabel('The phones, one name a line').fill('kitchen');
  await act(page.getByLabel("The provider's SIP server").fill(trunk));
  await act(page.getByLabel("The household's phone number").fill('01632 960123'));
  await act(page.getByLabel('The bank, from the back of the card').fill('0345 734 5345'));
  await act(page.getByRole('button', { name: 'Save and connect' }).click());
  await page.waitForURL(base + '/setup/phones');
  const card = page.locator('#phone-kitchen');
  assert.match(await card.innerText(), /Not connected yet/);
  await card.locator('summary', { hasText: 'Grandstream' }).click();
  assert.match(await card.innerText(), /Authenticate Password/);
  await page.screenshot({ path: `${shots}/setup-3-phones.png`, fullPage: true });

  step('waits for the phone to connect (reloading the page)');
  actions++;
  for (let i = 0; !/Connected from/.test(await card.innerText()); i++) {
    assert.ok(i < 60, 'the phone did not connect within 30 s');
    await page.waitForTimeout(500);
    await page.reload();
  }

  step('rings the phone');
  await act(page.getByRole('button', { name: 'Ring my phones' }).click());
  await page.waitForURL(/\/setup\/phones\?flash=/, { timeout: 45000 });
  assert.match(await page.locator('.flash').innerText(), /kitchen answered/);
  await page.screenshot({ path: `${shots}/setup-4-rang.png`, fullPage: true });

  step('goes on to the last step; bad answers are refused and nobody is made');
  await act(page.getByRole('link', { name: 'Next: who looks after this household' }).click());
  await page.waitForURL(base + '/setup/you');
  await page.getByLabel('Your e-mail address').fill('not an address');
  await page.getByLabel('A password').fill('short');
  await page.getByRole('button', { name: 'Finish setting up' }).click();
  for (const [field, msg] of [['name', /your name/], ['email', /e-mail/], ['password', /at least 10/], ['ntfy', /at least one way/]]) {
    assert.match(await page.locator(`#${field}-error`).innerText(), msg, field);
  }
  await page.screenshot({ path: `${shots}/setup-5-bad-person.png`, fullPage: true });
  assert.equal((await page.request.get(base + '/setup/you')).status(), 200, 'setup is still open');

  step('gives their name, e-mail, password and push topic, and finishes');
  await act(page.getByLabel('Your name').fill('Sam'));
  await act(page.getByLabel('Your e-mail address').fill('sam@example.org'));
  await act(page.getByLabel('A password').fill('correct horse battery'));
  await act(page.getByLabel('Push to your phone').fill(inbox));
  await act(page.getByRole('button', { name: 'Finish setting up' }).click());
  await page.waitForURL(/\/\?flash=/);
  assert.match(await page.locator('.flash').innerText(), /Setup finished/);
  assert.match(await page.locator('#line').innerText(), /Nothing needs doing/);
  await page.screenshot({ path: `${shots}/setup-6-today.png`, fullPage: true });

  step('sends a test alert and sees it delivered');
  await act(page.getByRole('button', { name: 'Send a test alert' }).click());
  await page.waitForURL(/\/alerts\?flash=/);
  assert.match(await page.locator('.flash').innerText(), /sent to 1 people/);
  for (let i = 0; !/delivered/.test(await page.locator('.alert').first().innerText()); i++) {
    assert.ok(i < 40, 'the test alert was not delivered within 20 s');
    await page.waitForTimeout(500);
    await page.reload();
  }
  await page.screenshot({ path: `${shots}/setup-7-test-alert.png`, fullPage: true });

  step('the setup is gone: its pages answer 404 and the code opens nothing');
  assert.equal((await page.request.get(base + '/setup')).status(), 404);
  assert.equal((await page.request.post(base + '/setup', { form: { code } })).status(), 404);
  const fresh = await browser.newContext();
  const other = await fresh.newPage();
  await other.goto(base + '/');
  await other.waitForURL(base + '/login');

  console.log(`setup actions on the happy path: ${actions}`);
  assert.ok(actions <= 15, `setup took ${actions} actions; the target is at most 15`);
  console.log('ok: all browser steps passed');
} finally {
  await browser.close();
}
