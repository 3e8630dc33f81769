// What the browser scripts share: the environment e2e/browser_test.go passes, Debian's
// Chromium launched headless, and step logging.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

export const base = process.env.BASE_URL;
export const number = process.env.CALLER_NUMBER;
export const password = process.env.PASSWORD;
export const shots = process.env.SHOTS;
mkdirSync(shots, { recursive: true });

export const launch = () => chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

export const step = (name) => console.log('step:', name);
