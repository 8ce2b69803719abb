// End-to-end tests of the browser client: headless Debian Chromium driven by playwright-core against a started
// platform (the real CLI, a scripted model). Run by BrowserIT, which passes BASE_URL and the rest.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const BASE = process.env.BASE_URL;
const SHOTS = process.env.SCREENSHOT_DIR || 'screenshots';
const USER_HEADER = process.env.USER_HEADER || 'X-User';
let browser;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--no-first-run', '--disable-sync', '--disable-quic'],
  });
});

after(async () => {
  await browser?.close();
});

/** Opens the page as a user (the trusted-proxy header the test server expects) and waits until it is online. */
async function open(user, viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ extraHTTPHeaders: { [USER_HEADER]: user }, viewport });
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
  page.on('dialog', async (d) => { page.problems.push(`dialog: ${d.message()}`); await d.dismiss(); });
  await page.goto(`${BASE}/`);
  await page.waitForSelector('#connection.online');
  return page;
}

async function createAgent(page, name, tools = '') {
  await page.click('#new-agent');
  await page.fill('#agent-name', name);
  await page.fill('#agent-tools', tools);
  await page.click('#agent-save');
  await page.waitForFunction((n) => document.getElementById('agent-title').textContent === n, name);
}

async function send(page, text) {
  await page.fill('#input', text);
  await page.press('#input', 'Enter');
}

/** Waits until the open conversation shows `count` turn footers (done, failed or interrupted). */
async function footers(page, count) {
  await page.waitForFunction((n) => document.querySelectorAll('#messages .footer').length >= n, count, { timeout: 60000 });
}

const assistantText = (page) => page.$$eval('#messages .msg.assistant', (els) => els.map((e) => e.textContent));

test('create an agent, see the reply stream in and a tool card for a Write call', async () => {
  const page = await open('e2e-alice');
  await createAgent(page, 'Writer', 'Write');

  await send(page, '#slow 6 300');
  // Streaming: the first chunk is on screen while the agent is still running.
  await page.waitForFunction(() => {
    const text = [...document.querySelectorAll('#messages .msg.assistant')].map((e) => e.textContent).join('');
    return text.includes('chunk 1.') && !document.getElementById('running').hidden;
  });
  assert.ok(!(await assistantText(page)).join('').includes('chunk 6.'), 'seen before the reply was complete');
  await footers(page, 1);
  assert.equal((await assistantText(page)).join('').trim(), 'chunk 1. chunk 2. chunk 3. chunk 4. chunk 5. chunk 6.');
  assert.match(await page.textContent('#messages .footer'), /^Done in [\d.]+ s · \d+ in \/ \d+ out tokens · \$\d+\.\d{4}$/);
  assert.equal(await page.isHidden('#running'), true);

  await send(page, '#write hello.txt Hello from the browser');
  await footers(page, 2);
  const card = page.locator('details.tool').first();
  assert.match(await card.locator('summary').textContent(), /^Write .*hello\.txt$/);
  await card.locator('summary').click();
  assert.match(await card.locator('pre.input').textContent(), /Hello from the browser/);
  assert.match(await card.locator('pre.result').textContent(), /File created successfully/);
  assert.equal(await card.evaluate((d) => d.classList.contains('error')), false);

  // Bash is not among this agent's allowed tools: the CLI refuses the call, and the card says so.
  await send(page, '#bash touch made-by-bash.txt');
  await footers(page, 3);
  const refused = page.locator('details.tool').nth(1);
  assert.match(await refused.locator('summary').textContent(), /^Bash touch made-by-bash.txt/);
  assert.match(await refused.locator('pre.result').textContent(), /permission|approv|grant/i);
  assert.equal(await refused.evaluate((d) => d.classList.contains('error')), true, 'a failed tool call is marked');

  // Shift+Enter adds a line; Enter sends.
  await page.fill('#input', 'first line');
  await page.press('#input', 'Shift+Enter');
  await page.type('#input', 'second line');
  assert.equal(await page.inputValue('#input'), 'first line\nsecond line');
  assert.equal(await page.locator('#messages .msg.user').count(), 3, 'Shift+Enter sent nothing');
  await page.fill('#input', '');

  assert.equal(await page.isHidden('#notice'), true, 'no error notice in a normal conversation');
  await page.screenshot({ path: `${SHOTS}/conversation.png` });
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('the page comes with its security headers, still connects and chats, and may not connect elsewhere', async () => {
  const context = await browser.newContext({ extraHTTPHeaders: { [USER_HEADER]: 'e2e-heidi' } });
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
  const response = await page.goto(`${BASE}/`);
  const headers = response.headers();
  const csp = headers['content-security-policy'] || '';
  assert.match(csp, /connect-src 'self'(;|$)/, csp);
  assert.match(csp, /frame-ancestors 'none'/, csp);
  assert.doesNotMatch(csp, /ws:|wss:/, csp);
  assert.equal(headers['x-content-type-options'], 'nosniff');
  assert.equal(headers['referrer-policy'], 'no-referrer');
  const script = await page.request.get(`${BASE}/app/main.js`);
  assert.equal(script.headers()['x-content-type-options'], 'nosniff');

  await page.waitForSelector('#connection.online');
  await createAgent(page, 'Guarded');
  await send(page, '#say still chatting');
  await footers(page, 1);
  assert.deepEqual((await assistantText(page)).map((t) => t.trim()), ['still chatting']);

  // Another port of the same host is another origin: the policy keeps an injected script from reaching it.
  const other = new URL(BASE);
  other.protocol = 'ws:';
  other.port = String(Number(other.port) + 1);
  other.pathname = '/ws';
  const outcome = await page.evaluate((url) => new Promise((resolve) => {
    const report = (e) => resolve(`violation ${e.violatedDirective}`);
    document.addEventListener('securitypolicyviolation', report, { once: true });
    try {
      const ws = new WebSocket(url);
      ws.onopen = () => resolve('opened');
    } catch (e) {
      resolve(`threw ${e.name}`);
    }
    setTimeout(() => resolve('no violation reported'), 10000);
  }), other.toString());
  assert.match(outcome, /violation connect-src|threw SecurityError/);
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('history survives a reload; a slow turn can be interrupted; an agent can be renamed and deleted', async () => {
  const page = await open('e2e-bob');
  await createAgent(page, 'Keeper');
  await createAgent(page, 'Second');
  await page.click('#agent-list button[aria-label^="Keeper"]');
  await send(page, '#say remembered words');
  await footers(page, 1);

  await page.reload();
  await page.waitForSelector('#connection.online');
  await page.click('#agent-list button[aria-label^="Keeper"]');
  await footers(page, 1);
  assert.equal(await page.textContent('#messages .msg.user'), '#say remembered words');
  assert.deepEqual((await assistantText(page)).map((t) => t.trim()), ['remembered words']);

  await send(page, '#slow 100 200');
  await page.waitForFunction(() => document.querySelector('#messages .msg.assistant:last-of-type')?.textContent.includes('chunk 1.'));
  await page.click('#interrupt');
  await footers(page, 2);
  assert.match(await page.locator('#messages .footer').nth(1).textContent(), /^Interrupted/);
  await page.waitForFunction(() => document.getElementById('agent-status').textContent === 'idle');
  assert.equal(await page.isHidden('#interrupt'), true);

  await page.click('#rename-agent');
  await page.fill('#agent-name', 'Renamed keeper');
  await page.click('#agent-save');
  await page.waitForFunction(() => document.getElementById('agent-title').textContent === 'Renamed keeper');
  assert.ok(await page.isVisible('#agent-list button[aria-label^="Renamed keeper"]'));
  await page.screenshot({ path: `${SHOTS}/agents.png` });

  await page.click('#delete-agent');
  assert.ok(await page.isVisible('#confirm-dialog'));
  await page.click('#confirm-ok');
  await page.waitForFunction(() => !document.querySelector('#agent-list button[aria-label^="Renamed keeper"]'));
  assert.equal(await page.isVisible('#empty'), true);
  await page.reload();
  await page.waitForSelector('#agent-list button[aria-label^="Second"]');
  assert.equal(await page.locator('#agent-list button[aria-label^="Renamed keeper"]').count(), 0);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('after the WebSocket drops mid-reply the page reconnects and shows every line exactly once', async () => {
  const page = await open('e2e-carol');
  await createAgent(page, 'Resumer');
  await send(page, '#slow 12 250');
  await page.waitForFunction(() => document.querySelector('#messages .msg.assistant')?.textContent.includes('chunk 2.'));
  await page.evaluate(() => window.agentPlatform.dropConnection());
  await page.waitForSelector('#connection.offline');
  await page.waitForSelector('#connection.online', { timeout: 30000 });
  await footers(page, 1);
  const expected = Array.from({ length: 12 }, (_, i) => `chunk ${i + 1}.`).join(' ');
  assert.deepEqual((await assistantText(page)).map((t) => t.trim()), [expected]);
  assert.equal(await page.locator('#messages .msg.user').count(), 1);
  assert.equal(await page.locator('#messages .footer').count(), 1);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('markup in a reply or in a message runs nothing', async () => {
  const page = await open('e2e-mallory');
  await createAgent(page, 'Sanitised');
  await page.evaluate(() => { window.__xss = 0; });
  const payload = [
    'Look: <img src=x onerror="window.__xss++"> and <script>window.__xss++</script>',
    '<svg onload="window.__xss++"></svg> <a href="javascript:window.__xss++" id="bad-link">a link</a>',
    '[click me](javascript:window.__xss++) <iframe src="javascript:window.__xss++"></iframe>',
    '',
    '```html',
    '<img src=x onerror=alert(1)>',
    '```',
  ].join('\n');
  await send(page, `#say ${payload}`);
  await footers(page, 1);

  const user = await page.textContent('#messages .msg.user');
  assert.ok(user.includes('<img src=x onerror="window.__xss++">'), 'the user message shows the markup as text');
  const dangers = await page.evaluate(() => {
    const found = [];
    for (const el of document.querySelectorAll('#messages *')) {
      if (['SCRIPT', 'IFRAME', 'SVG', 'OBJECT', 'EMBED'].includes(el.tagName.toUpperCase())) found.push(el.tagName);
      for (const attr of el.attributes) {
        if (/^on/i.test(attr.name) || /^\s*javascript:/i.test(attr.value)) found.push(`${el.tagName}[${attr.name}]`);
      }
    }
    return found;
  });
  assert.deepEqual(dangers, [], 'no script, frame, handler or javascript: URL reached the page');
  assert.ok(await page.isVisible('#messages .msg.assistant #bad-link'), 'the harmless parts of the reply still show');
  assert.equal(await page.locator('#messages .msg.assistant pre code').textContent(), '<img src=x onerror=alert(1)>\n');
  assert.ok(await page.isVisible('#messages .msg.assistant pre .copy'), 'a code block has a copy button');
  for (const link of await page.locator('#messages a').all()) {
    await link.click({ modifiers: [] }).catch(() => {});
  }
  await page.waitForTimeout(300);
  assert.equal(await page.evaluate(() => window.__xss), 0, 'no handler ran');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('a typed error is shown as a clear message', async () => {
  const page = await open('e2e-dave');
  await createAgent(page, 'Erroneous');
  await page.click('#rename-agent');
  await page.fill('#agent-model', 'not a model; rm -rf /');
  await page.click('#agent-save');
  await page.waitForSelector('#agent-form-error:not([hidden])');
  assert.match(await page.textContent('#agent-form-error'), /^model: not a model name/);
  await page.click('#agent-cancel');

  // The same user deletes the agent in another tab; sending from this one is then a clear not_found.
  const other = await open('e2e-dave');
  await other.click('#agent-list button[aria-label^="Erroneous"]');
  await other.click('#delete-agent');
  await other.click('#confirm-ok');
  await other.waitForSelector('#empty:not([hidden])');
  await other.context().close();
  await send(page, 'are you still there?');
  await page.waitForSelector('#notice:not([hidden])');
  assert.match(await page.textContent('#notice-text'), /^Not found \(it may have been deleted\): no agent [0-9a-f]{32}$/);
  assert.equal(await page.isDisabled('#send'), false, 'the page stays usable after an error');
  await page.context().close();
});

test('while the model API fails, the page says the agent is retrying', async () => {
  const page = await open('e2e-erin');
  await createAgent(page, 'Patient');
  await send(page, '#fail 500');
  await page.waitForFunction(() => document.getElementById('running-text').textContent.includes('retry 1 of'));
  assert.match(await page.textContent('#running-text'), /^Working… the model API is not answering \(HTTP 500 server_error\); retry \d+ of \d+$/);
  await page.click('#interrupt');
  await footers(page, 1);
  await page.waitForSelector('#running', { state: 'hidden' });
  assert.equal(await page.textContent('#running-text'), 'Working…', 'the retry note goes with the turn');
  await page.context().close();
});

test('the page works from the keyboard alone', async () => {
  const page = await open('e2e-frank');
  // Tab reaches the first control; Enter on "New agent" opens the dialog with the name field focused.
  for (let i = 0; i < 10 && (await page.evaluate(() => document.activeElement?.id)) !== 'new-agent'; i++) {
    await page.keyboard.press('Tab');
  }
  assert.equal(await page.evaluate(() => document.activeElement.id), 'new-agent');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'agent-name');
  await page.keyboard.type('Keyboarder');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.getElementById('agent-title').textContent === 'Keyboarder');
  await page.waitForFunction(() => document.activeElement.id === 'input', null, { timeout: 5000 });
  await page.keyboard.type('typed, not clicked');
  await page.keyboard.press('Enter');
  await footers(page, 1);
  assert.deepEqual((await assistantText(page)).map((t) => t.trim()), ['Echo: typed, not clicked']);
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('button, input, textarea')]
    .filter((el) => !el.hidden && !(el.labels?.length || el.getAttribute('aria-label') || el.textContent.trim()))
    .map((el) => el.id || el.outerHTML.slice(0, 60)));
  assert.deepEqual(unlabelled, [], 'every control has a label');
  await page.context().close();
});

test('the page is usable in a narrow window', async () => {
  const page = await open('e2e-alice', { width: 420, height: 800 });
  await page.click('#agent-list button[aria-label^="Writer"]');
  await footers(page, 2);
  assert.equal(await page.isHidden('#sidebar'), true, 'the agents list folds away on a narrow screen');
  await page.click('#toggle-sidebar');
  assert.equal(await page.isVisible('#sidebar'), true);
  await page.click('#toggle-sidebar');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.equal(overflow, 0, 'nothing is wider than the window');
  await page.screenshot({ path: `${SHOTS}/narrow.png` });
  await page.context().close();
});
