// The chat page: a conversation, streamed from POST /chat/completions (server-sent events
// `data: {"token": ...}` then `data: {"done": true}`), rendered with our safe markdown.
// Edit a user turn (the conversation after it is dropped and the answer regenerated), regenerate
// an assistant turn, start a new conversation, change temperature / top-k; a visible error when
// the server cannot be reached. Settings persist in localStorage.

import { renderMarkdown } from './markdown.js';

const $ = (id) => document.getElementById(id);
const chatEl = $('chat');
const input = $('input');
const sendBtn = $('send');
const stopBtn = $('stop');
const errorEl = $('error');
const statusEl = $('status');

/** @type {{role: 'user' | 'assistant', content: string}[]} */
let messages = [];
let controller = null; // AbortController of the running request

// --- settings --------------------------------------------------------------------------------

const settings = { temperature: 0.8, topK: 50, maxTokens: 512 };
try { Object.assign(settings, JSON.parse(localStorage.getItem('nanochat-settings') || '{}')); } catch { /* defaults */ }
const bindSetting = (id, key, outId) => {
  const el = $(id);
  el.value = String(settings[key]);
  if (outId) $(outId).textContent = String(settings[key]);
  el.addEventListener('input', () => {
    settings[key] = Number(el.value);
    if (outId) $(outId).textContent = el.value;
    localStorage.setItem('nanochat-settings', JSON.stringify(settings));
  });
};
bindSetting('temperature', 'temperature', 'temperature-value');
bindSetting('top-k', 'topK', 'top-k-value');
bindSetting('max-tokens', 'maxTokens');
$('settings-toggle').addEventListener('click', () => {
  const s = $('settings');
  s.hidden = !s.hidden;
  $('settings-toggle').setAttribute('aria-expanded', String(!s.hidden));
});

// --- errors and server status ------------------------------------------------------------------

function showError(text) {
  errorEl.textContent = text;
  errorEl.hidden = false;
}
function clearError() {
  errorEl.hidden = true;
  errorEl.textContent = '';
}
function setStatus(ok, text) {
  statusEl.textContent = text;
  statusEl.classList.toggle('ok', ok);
  statusEl.classList.toggle('down', !ok);
}

async function checkHealth() {
  try {
    const r = await fetch('/health', { cache: 'no-store' });
    const h = await r.json();
    setStatus(true, h.busy > 0 ? `online · ${h.busy} busy` : 'online');
    $('model-name').textContent = h.model || '';
  } catch {
    setStatus(false, 'offline');
  }
}
checkHealth();
setInterval(checkHealth, 5000);

// --- rendering -------------------------------------------------------------------------------

function render() {
  chatEl.querySelectorAll('.msg').forEach((n) => n.remove());
  $('empty').hidden = messages.length > 0;
  messages.forEach((m, i) => chatEl.appendChild(messageEl(m, i)));
  chatEl.scrollTop = chatEl.scrollHeight;
}

function button(label, title, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'ghost small';
  b.textContent = label;
  b.title = title;
  b.addEventListener('click', onClick);
  return b;
}

function messageEl(m, i) {
  const el = document.createElement('div');
  el.className = `msg ${m.role}`;
  el.dataset.index = String(i);
  const body = document.createElement('div');
  body.className = 'body';
  if (m.role === 'assistant') body.innerHTML = renderMarkdown(m.content); // escaped first: see markdown.js
  else body.textContent = m.content;
  el.appendChild(body);
  const actions = document.createElement('div');
  actions.className = 'actions';
  if (m.role === 'user') actions.appendChild(button('Edit', 'Edit this message and regenerate the answer', () => startEdit(el, i)));
  else actions.appendChild(button('Regenerate', 'Generate this answer again', () => regenerate(i)));
  el.appendChild(actions);
  return el;
}

function startEdit(el, i) {
  if (controller) return;
  const body = el.querySelector('.body');
  const actions = el.querySelector('.actions');
  const area = document.createElement('textarea');
  area.className = 'edit';
  area.value = messages[i].content;
  body.replaceChildren(area);
  actions.replaceChildren(
    button('Save & submit', 'Replace this message and regenerate from here', () => {
      const text = area.value.trim();
      if (!text) return;
      messages = messages.slice(0, i);
      messages.push({ role: 'user', content: text });
      render();
      generate();
    }),
    button('Cancel', 'Keep the message as it was', () => render()),
  );
  area.focus();
}

function regenerate(i) {
  if (controller) return;
  messages = messages.slice(0, i); // drop this answer and everything after it
  render();
  generate();
}

// --- generation ------------------------------------------------------------------------------

function setBusy(busy) {
  sendBtn.hidden = busy;
  stopBtn.hidden = !busy;
  document.body.classList.toggle('busy', busy);
}

async function generate() {
  clearError();
  const assistant = { role: 'assistant', content: '' };
  const convo = messages.slice();
  messages.push(assistant);
  render();
  const el = chatEl.querySelector(`.msg[data-index="${messages.length - 1}"]`);
  const body = el.querySelector('.body');
  el.classList.add('streaming');
  controller = new AbortController();
  setBusy(true);
  let failed = null;
  try {
    const r = await fetch('/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: convo, temperature: settings.temperature, top_k: settings.topK, max_tokens: settings.maxTokens }),
      signal: controller.signal,
    });
    if (!r.ok) {
      let msg = `the server answered ${r.status}`;
      try { msg = (await r.json()).error?.message || msg; } catch { /* not JSON */ }
      throw new Error(msg);
    }
    const reader = r.body.getReader();
    const dec = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let cut;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const event = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        for (const line of event.split('\n')) {
          if (!line.startsWith('data: ')) continue;
          const data = JSON.parse(line.slice(6));
          if (data.error) throw new Error(data.error.message || 'generation failed');
          if (typeof data.token === 'string') {
            assistant.content += data.token;
            body.innerHTML = renderMarkdown(assistant.content);
            chatEl.scrollTop = chatEl.scrollHeight;
          }
        }
      }
    }
  } catch (e) {
    if (e.name !== 'AbortError') failed = e;
  } finally {
    controller = null;
    setBusy(false);
    el.classList.remove('streaming');
  }
  if (failed) {
    const unreachable = failed instanceof TypeError; // fetch's network failure
    showError(unreachable ? `Cannot reach the server (${location.host}). Is \`nanochat serve\` running? Your message is kept: press Regenerate to retry.` : `Error: ${failed.message}`);
    if (unreachable) setStatus(false, 'offline');
    if (!assistant.content) assistant.content = '';
  }
  render();
}

$('form').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = input.value.trim();
  if (!text || controller) return;
  input.value = '';
  autosize();
  messages.push({ role: 'user', content: text });
  generate();
});
input.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    $('form').requestSubmit();
  }
});
function autosize() {
  input.style.height = 'auto';
  input.style.height = `${Math.min(input.scrollHeight, 200)}px`;
}
input.addEventListener('input', autosize);
stopBtn.addEventListener('click', () => controller?.abort());
$('new-chat').addEventListener('click', () => {
  controller?.abort();
  messages = [];
  clearError();
  render();
  input.focus();
});
render();
