// dalle-jvm's page: generate with live progress (POST /v1/images/generations/stream, server-sent events read with
// fetch so that the Authorization header can be sent), the ranked grid and its contact sheet, and the caller's
// jobs (POST /v1/jobs, GET /v1/jobs, GET /v1/jobs/{id}). No framework, no build step. Errors are shown as the API
// gives them.
'use strict';

const $ = (id) => document.getElementById(id);
const STAGES = ['tokenizer', 'sampler', 'decoder', 'reranker'];
const JOBS_KEY = 'dalle.jobs';
const KEY_KEY = 'dalle.apiKey';

// ---- the API key: kept in localStorage, sent as a bearer token when set ----
$('apiKey').value = localStorage.getItem(KEY_KEY) || '';
$('apiKey').addEventListener('change', () => {
  localStorage.setItem(KEY_KEY, $('apiKey').value.trim());
  refreshJobs();
});

function headers(json) {
  const h = {};
  if (json) h['Content-Type'] = 'application/json';
  const key = $('apiKey').value.trim();
  if (key) h['Authorization'] = 'Bearer ' + key;
  return h;
}

// ---- the request body: the OpenAI Images fields plus dalle's extensions ----
function number(id) {
  const v = $(id).value.trim();
  return v === '' ? undefined : Number(v);
}

function body() {
  const b = { prompt: $('caption').value, n: number('topK'), candidates: number('candidates'),
              seed: number('seed'), response_format: 'b64_json' };
  const sampling = { temperature: number('temperature'), top_k: number('topKTokens'), top_p: number('topP'),
                     guidance_scale: number('guidance') };
  if (Object.values(sampling).some((v) => v !== undefined)) b.sampling = sampling;
  return b;
}

// ---- errors, as the API gives them: the status and OpenAI's error body ----
function showError(status, error) {
  const box = $('error');
  const lines = [`HTTP ${status}: ${error.message}`];
  if (error.param) lines.push(`param: ${error.param}`);
  lines.push(`type: ${error.type}` + (error.code ? `, code: ${error.code}` : ''));
  box.textContent = lines.join('\n');
  box.hidden = false;
}

async function errorOf(response) {
  const text = await response.text();
  try {
    const parsed = JSON.parse(text);
    if (parsed.error) return parsed.error;
  } catch (e) { /* not JSON: shown as text */ }
  return { message: text || response.statusText, type: 'http_error' };
}

// ---- progress: one bar per stage ----
function resetProgress(total) {
  const stages = document.querySelector('#progress .stages');
  stages.innerHTML = '';
  for (const s of STAGES) {
    stages.insertAdjacentHTML('beforeend', `<span>${s}</span><progress id="bar-${s}" max="${total}" value="0"></progress>`
      + `<span id="count-${s}" class="count">0 / ${total}</span>`);
  }
  $('progress').hidden = false;
}

window.dalleEvents = []; // every progress event seen, for a look from the console (and the browser test)

function progress(e) {
  window.dalleEvents.push(e);
  $('requestId').textContent = e.request_id;
  const bar = $('bar-' + e.stage);
  if (!bar) return;
  bar.max = e.candidates_total || bar.max;
  bar.value = e.stage === 'tokenizer' && e.status === 'succeeded' ? bar.max : e.candidates_done;
  const count = $('count-' + e.stage);
  count.textContent = `${bar.value} / ${bar.max}` + (e.status === 'succeeded' ? ' ✓' : '');
  count.className = 'count stage-' + e.status;
}

// ---- the ranked grid and its contact sheet ----
function showImages(target, data) {
  target.innerHTML = '';
  for (const d of data) {
    const src = d.b64_json ? 'data:image/png;base64,' + d.b64_json : d.url;
    target.insertAdjacentHTML('beforeend', `<figure class="ranked" data-rank="${d.rank}" data-candidate="${d.candidate_index}">`
      + `<img alt="rank ${d.rank}" src="${src}"><figcaption>#${d.rank} · candidate ${d.candidate_index}`
      + ` · score ${d.score.toFixed(3)}</figcaption></figure>`);
  }
}

async function contactSheet(data) {
  const cell = 128, label = 16, cols = Math.min(4, data.length), rows = Math.ceil(data.length / cols);
  const canvas = document.createElement('canvas');
  canvas.width = cols * cell;
  canvas.height = rows * (cell + label);
  const g = canvas.getContext('2d');
  g.fillStyle = '#000';
  g.fillRect(0, 0, canvas.width, canvas.height);
  g.imageSmoothingEnabled = false;
  g.font = '11px sans-serif';
  for (let i = 0; i < data.length; i++) {
    const img = new Image();
    img.src = 'data:image/png;base64,' + data[i].b64_json;
    await img.decode();
    const x = (i % cols) * cell, y = Math.floor(i / cols) * (cell + label);
    g.drawImage(img, x, y, cell, cell);
    g.fillStyle = '#fff';
    g.fillText(`#${data[i].rank} c${data[i].candidate_index} ${data[i].score.toFixed(2)}`, x + 3, y + cell + 12);
  }
  return canvas.toDataURL('image/png');
}

async function showResult(r) {
  $('summary').textContent = `request ${r.request_id} · seed ${r.seed} · bundle ${r.bundle_version}`;
  showImages($('grid'), r.data);
  $('sheet').href = await contactSheet(r.data);
  $('results').hidden = false;
}

// ---- generate: server-sent events over a POST ----
async function generate(event) {
  event.preventDefault();
  $('error').hidden = true;
  $('results').hidden = true;
  $('generate').disabled = true;
  const b = body();
  resetProgress(b.candidates || 16);
  try {
    const response = await fetch('/v1/images/generations/stream', {
      method: 'POST', headers: headers(true), body: JSON.stringify(b) });
    if (!response.ok || !(response.headers.get('content-type') || '').startsWith('text/event-stream')) {
      $('progress').hidden = true; // refused before it started
      showError(response.status, await errorOf(response));
      return;
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let name = 'message', data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) name = line.slice(6).trim();
          else if (line.startsWith('data:')) data += line.slice(5).trim();
        }
        if (!data) continue;
        const payload = JSON.parse(data);
        if (name === 'progress') progress(payload);
        else if (name === 'result') await showResult(payload);
        else if (name === 'error') showError(payload.status, payload.error);
      }
    }
  } catch (e) {
    showError(0, { message: String(e), type: 'network_error' });
  } finally {
    $('generate').disabled = false;
  }
}

// ---- jobs: the caller's jobs from GET /v1/jobs (queued here or by any client with the same key), newest first;
// captions of the jobs queued in this browser are kept in localStorage (the API does not return them) ----
function captions() {
  return JSON.parse(localStorage.getItem(JOBS_KEY) || '[]');
}

async function queue() {
  $('error').hidden = true;
  const b = body();
  const response = await fetch('/v1/jobs', { method: 'POST', headers: headers(true), body: JSON.stringify(b) });
  if (!response.ok) {
    showError(response.status, await errorOf(response));
    return;
  }
  const job = await response.json();
  localStorage.setItem(JOBS_KEY, JSON.stringify([{ id: job.id, caption: b.prompt }, ...captions()].slice(0, 50)));
  jobsPending = true;
  refreshJobs();
}

let jobsPending = false;
let jobsBusy = false;    // one listing at a time: a slow, older answer must not overwrite a newer one
let jobsAgain = false;   // asked for while one was in flight: list again once it is done

async function fetchJob(id) {
  const response = await fetch('/v1/jobs/' + encodeURIComponent(id), { headers: headers(false) });
  if (!response.ok) return { id, state: `error ${response.status}`, error: await errorOf(response) };
  return response.json();
}

async function refreshJobs() {
  if (jobsBusy) {
    jobsAgain = true;
    return;
  }
  jobsBusy = true;
  try {
    await listJobs();
  } finally {
    jobsBusy = false;
  }
  if (jobsAgain) {
    jobsAgain = false;
    refreshJobs();
  }
}

async function listJobs() {
  const tbody = document.querySelector('#jobs tbody');
  const note = $('jobsNote');
  let page;
  try {
    const response = await fetch('/v1/jobs?limit=50', { headers: headers(false) });
    if (!response.ok) {
      const e = await errorOf(response);
      note.textContent = `jobs: HTTP ${response.status}: ${e.message}`;
      note.hidden = false;
      jobsPending = false;
      return;
    }
    page = await response.json();
  } catch (e) {
    note.textContent = `jobs: ${e}`;
    note.hidden = false;
    return;
  }
  note.hidden = true;
  const known = Object.fromEntries(captions().map((j) => [j.id, j.caption]));
  tbody.innerHTML = '';
  page.data.forEach((s) => {
    const stage = (s.stage || '').replace(/^STAGE_/, '').toLowerCase();
    const p = s.candidates_total ? `${stage} ${s.candidates_done}/${s.candidates_total}` : '';
    const row = document.createElement('tr');
    row.dataset.job = s.id;
    row.innerHTML = `<td><code></code></td><td></td><td class="state"></td><td>${p}</td>`
      + '<td><button type="button">open</button></td>';
    row.children[0].firstChild.textContent = s.id;
    row.children[1].textContent = known[s.id] || '';
    row.children[2].textContent = s.state;
    row.querySelector('button').addEventListener('click', () => openJob(s.id));
    tbody.appendChild(row);
  });
  jobsPending = page.data.some((s) => !['succeeded', 'failed'].includes(s.state));
}

async function openJob(id) {
  const s = await fetchJob(id);
  const box = $('job');
  box.innerHTML = `<h3>job <code></code></h3><p class="state">state: ${s.state}</p><div class="grid"></div>`;
  box.querySelector('code').textContent = id;
  if (s.error) box.querySelector('p').textContent += ` · ${s.error.type || ''}: ${s.error.message}`;
  if (s.data) showImages(box.querySelector('.grid'), s.data);
  box.dataset.job = id;
  box.hidden = false;
}

$('form').addEventListener('submit', generate);
$('queue').addEventListener('click', queue);
refreshJobs();
setInterval(() => {
  if (jobsPending) refreshJobs();
}, 1000);
