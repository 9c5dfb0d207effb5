import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { PATIENTS, USERS } from '../../prisma/seed-data.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { until } from '../support/wait.js';

/**
 * The explorer in a real browser (Debian's Chromium, which `.ci/run` installs), with every
 * request that does not go to the gateway refused and recorded: it must load, run a query with
 * a token typed in its header editor, stream a subscription, and never reach for the network.
 * The screenshot is kept as a CI artifact in test/artifacts/ (ignored by git).
 */
const CHROMIUM = process.env['CHROMIUM_PATH'] || '/usr/bin/chromium';
// CI installs Chromium and must run this; elsewhere, without it, the browser test cannot run.
const describeWithBrowser = existsSync(CHROMIUM) || process.env['CI'] ? describe : describe.skip;
const ARTIFACTS = 'test/artifacts';

let t: TestPlatform;
let browser: Browser;
let page: Page;
const outside: string[] = [];

/** What the page functions below use of the browser's DOM (the tests compile without the DOM library). */
interface PageDocument {
  querySelectorAll(selector: string): ArrayLike<unknown>;
  querySelector(selector: string): unknown;
}
type Editor = { getValue(): string; setValue(value: string): void };

/** Sets the text of a GraphiQL editor (CodeMirror 5): the last one `selector` finds. */
async function setEditor(selector: string, value: string): Promise<void> {
  const done = await page.evaluate(([css, text]) => {
    const found = Array.from((globalThis as unknown as { document: PageDocument }).document.querySelectorAll(css as string));
    const editor = (found.at(-1) as { CodeMirror?: Editor } | undefined)?.CodeMirror;
    editor?.setValue(text as string);
    return Boolean(editor);
  }, [selector, value]);
  if (!done) throw new Error(`no editor at ${selector}`);
}
/** The query editor; the header editor comes after the variables editor in GraphiQL's editor tools. */
const QUERY_EDITOR = '.graphiql-query-editor .CodeMirror';
const HEADER_EDITOR = '.graphiql-editor-tool .CodeMirror';

const resultText = (): Promise<string> =>
  page.evaluate(() => (((globalThis as unknown as { document: PageDocument }).document.querySelector('.result-window .CodeMirror') as { CodeMirror?: Editor } | null)?.CodeMirror?.getValue() ?? ''));

describeWithBrowser('the explorer, offline, in headless Chromium', () => {
  beforeAll(async () => {
    t = await startTestPlatform();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
        // The network cut off: no name resolves but the loopback address the gateway is on.
        '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
    });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    await context.route('**/*', async (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1' && url.port === new URL(t.baseUrl).port) return route.continue();
      outside.push(url.origin);
      return route.abort();
    });
    page = await context.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('loads from the gateway alone, runs a query with a token, streams a subscription, and reaches nothing else', async () => {
    const response = await page.goto(`${t.baseUrl}/graphql`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("default-src 'self'");
    await page.waitForSelector('.graphiql-container .graphiql-query-editor .CodeMirror', { timeout: 30_000 });

    const token = await t.tokenFor('nurse');
    await setEditor(HEADER_EDITOR, JSON.stringify({ authorization: `Bearer ${token}` }));
    await setEditor(QUERY_EDITOR, 'query Me { me { id displayName roles } }');
    await page.click('.graphiql-execute-button');
    await until(resultText, (text) => text.includes(USERS.nurse.id), 'the query result in the explorer');
    expect(JSON.parse(await resultText())).toEqual({ data: { me: { id: USERS.nurse.id, displayName: USERS.nurse.displayName, roles: ['NURSE'] } } });

    // The persisted operations are listed in their own panel.
    await page.click('button[aria-label="Show Persisted operations"]');
    await page.waitForSelector('.caregraph-operations li');
    expect(await page.locator('.caregraph-operations li').count()).toBeGreaterThan(5);

    const topic = 'events:nurse.queue.changed';
    const before = await t.platform.deps.pubsub.subscribers(topic);
    await setEditor(QUERY_EDITOR, 'subscription Queue { queueUpdated { kind entry { reason } } }');
    await page.click('.graphiql-execute-button');
    await until(() => t.platform.deps.pubsub.subscribers(topic), (n) => n > before, 'the explorer’s subscription');
    const created = await fetch(t.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await t.tokenFor('clinician')}` },
      body: JSON.stringify({ query: `mutation { createQueueEntry(input: {patientId: "${PATIENTS.chidiNorth.id}", urgency: MEDIUM, reason: "seen in the explorer"}) { id } }` }),
    });
    expect(((await created.json()) as { errors?: unknown }).errors).toBeUndefined();
    await until(resultText, (text) => text.includes('seen in the explorer'), 'the subscription event in the explorer');
    expect(await resultText()).toContain('"kind": "ADDED"');

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}/explorer.png`, fullPage: true });
    expect(outside).toEqual([]);
  });
});
