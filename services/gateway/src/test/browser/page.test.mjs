// The gateway's web page in a real browser (Debian's Chromium, driven by playwright-core), as a user uses it:
// type a caption, generate, watch the progress, see the N best ranked, get the contact sheet, see an API error as
// the API gives it, queue a job and open it once done, see the caller's other jobs listed. Run by BrowserTest:
//   node page.test.mjs <gateway base URL> <chromium binary> <folder for screenshots> <API key>
// Prints one JSON line of what it saw; exits non-zero with the reason when something is not as expected.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';

const [base, executablePath, out, apiKey] = process.argv.slice(2);
mkdirSync(out, { recursive: true });
const t0 = Date.now();
const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--headless=new'] });
const seen = {};
let page;
try {
  page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  page.setDefaultTimeout(30_000);
  const requests = [];
  page.on('request', (r) => requests.push({ url: r.url(), auth: r.headers()['authorization'] }));
  // the job calls and their answers, printed when the script fails
  const jobCalls = [];
  page.on('response', async (r) => {
    if (!r.url().includes('/v1/jobs')) return;
    const body = await r.text().catch((e) => String(e));
    jobCalls.push(`${((Date.now() - t0) / 1000).toFixed(1)}s ${r.request().method()} ${r.url()} ${r.status()} `
      + body.slice(0, 300));
  });
  page.on('console', (m) => jobCalls.push(`console ${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => jobCalls.push(`page error: ${e}`));
  seen.jobCalls = jobCalls;
  await page.goto(base + '/');
  assert.equal(await page.title(), 'dalle-jvm');

  // without a key: the API's 401, shown as it gives it
  await page.fill('#caption', 'a small red circle above a blue square');
  await page.click('#generate');
  await page.waitForSelector('#error:not([hidden])');
  seen.unauthenticated = await page.textContent('#error');
  assert.match(seen.unauthenticated, /^HTTP 401: /);

  // the API key is kept and sent as a bearer token
  await page.fill('#apiKey', apiKey);
  await page.dispatchEvent('#apiKey', 'change');

  // generate: 6 candidates, the best 3
  await page.fill('#caption', 'a small red circle above a blue square');
  await page.fill('#candidates', '6');
  await page.fill('#topK', '3');
  await page.fill('#seed', '7');
  await page.click('#generate');
  await page.waitForSelector('#results:not([hidden]) figure.ranked >> nth=2');
  const figures = await page.$$eval('figure.ranked', (fs) => fs.map((f) => ({
    rank: Number(f.dataset.rank), candidate: Number(f.dataset.candidate),
    caption: f.querySelector('figcaption').textContent, loaded: f.querySelector('img').naturalWidth })));
  assert.equal(figures.length, 3);
  // the stand-in stages score candidate i as i*20: the best are 5, 4, 3
  assert.deepEqual(figures.map((f) => [f.rank, f.candidate]), [[1, 5], [2, 4], [3, 3]]);
  assert.ok(figures.every((f) => f.loaded > 0), 'every image decoded');
  assert.match(figures[0].caption, /#1 · candidate 5 · score 100\.000/);
  // progress: every stage's bar reached the 6 candidates, from the stream's events
  const bars = await page.$$eval('.stages progress', (ps) => ps.map((p) => [p.id, p.value, p.max]));
  assert.deepEqual(bars, [['bar-tokenizer', 6, 6], ['bar-sampler', 6, 6], ['bar-decoder', 6, 6],
    ['bar-reranker', 6, 6]]);
  assert.match(await page.textContent('#count-reranker'), /6 \/ 6 ✓/);
  seen.progressEvents = await page.evaluate(() => window.dalleEvents.length);
  assert.ok(seen.progressEvents >= 4, 'progress events of the four stages: ' + seen.progressEvents);
  const sheet = await page.getAttribute('#sheet', 'href');
  assert.match(sheet, /^data:image\/png;base64,/);
  seen.sheetBytes = Buffer.from(sheet.split(',')[1], 'base64').length;
  seen.figures = figures;
  await page.screenshot({ path: out + '/page-generated.png', fullPage: true });
  assert.ok(requests.some((r) => r.url.endsWith('/v1/images/generations/stream')
    && r.auth === 'Bearer ' + apiKey), 'the stream request carries the key');

  // an API error, as the API gives it: top-k above the candidates
  await page.fill('#topK', '9');
  await page.click('#generate');
  await page.waitForSelector('#error:not([hidden])');
  seen.error = await page.textContent('#error');
  assert.match(seen.error, /^HTTP 400: /);
  assert.match(seen.error, /param: n/);
  assert.match(seen.error, /type: invalid_request_error/);
  assert.ok(await page.isHidden('#progress'), 'a refused request shows no progress');
  await page.screenshot({ path: out + '/page-error.png', fullPage: true });

  // a job: queued, listed, done, opened
  await page.fill('#topK', '2');
  await page.click('#queue');
  // the row of this browser's job: the one with its caption (the list also holds the caller's other jobs)
  const row = page.locator('#jobs tbody tr', { hasText: 'a small red circle above a blue square' });
  await row.locator('td.state', { hasText: 'succeeded' }).waitFor({ timeout: 60_000 });
  seen.jobId = await row.getAttribute('data-job');
  await row.locator('button').click();
  await page.waitForSelector('#job:not([hidden]) figure.ranked >> nth=1');
  assert.match(await page.textContent('#job .state'), /state: succeeded/);
  assert.equal(await page.$$eval('#job figure.ranked', (fs) => fs.length), 2);
  await page.screenshot({ path: out + '/page-job.png', fullPage: true });
  // the list is the caller's jobs from GET /v1/jobs: the one BrowserTest queued over HTTP with the same key is
  // there (without a caption: only this browser knows its captions), another tenant's is not
  const [mine, theirs] = [process.env.OTHER_CLIENTS_JOB, process.env.OTHER_TENANTS_JOB];
  if (mine) {
    await page.locator(`#jobs tbody tr[data-job="${mine}"] td.state`).waitFor({ timeout: 30_000 });
    assert.equal(await page.locator(`#jobs tbody tr[data-job="${theirs}"]`).count(), 0);
  }
  seen.jobsListed = await page.$$eval('#jobs tbody tr', (rows) => rows.map((r) => r.dataset.job));
  assert.equal(seen.jobsListed[0], seen.jobId, 'newest first');
  seen.ms = Date.now() - t0;
  delete seen.jobCalls;
  console.log(JSON.stringify(seen));
} catch (e) {
  console.error('FAILED after ' + (Date.now() - t0) + ' ms: ' + (e.stack || e));
  console.error('job calls and console:\n' + (seen.jobCalls || []).join('\n'));
  if (page) await page.screenshot({ path: out + '/page-failed.png', fullPage: true }).catch(() => {});
  process.exitCode = 1;
} finally {
  await browser.close();
}
