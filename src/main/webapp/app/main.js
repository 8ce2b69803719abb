// The agents page: a sidebar of agents and the open agent's conversation, kept live over one WebSocket.
import { Connection } from './connection.js';
import { renderMarkdown, addCopyButtons } from './markdown.js';

const $ = (id) => document.getElementById(id);
const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
const connection = new Connection(wsUrl);

const state = {
  agents: new Map(),    // id -> agent
  current: null,        // open agent id
  lastSeq: 0,           // last seq shown for the open agent
  status: 'idle',       // the open agent's status
  texts: new Map(),     // messageId -> { el, text }
  tools: new Map(),     // toolUseId -> details element
  renderQueued: new Set(),
  editing: null,        // agent id being edited, or null when creating
};

// ---- connection state and errors ----

connection.addEventListener('state', (e) => {
  const { state: s, retryIn, userId } = e.detail;
  const el = $('connection');
  el.className = `connection ${s}`;
  el.textContent = s === 'online' ? `Connected${userId ? ` as ${userId}` : ''}`
    : s === 'offline' ? `Disconnected — reconnecting in ${retryIn} s` : 'Connecting…';
  $('send').disabled = s !== 'online' || state.status === 'running';
});

connection.addEventListener('hello', async () => {
  await loadAgents();
  if (state.current && state.agents.has(state.current)) {
    await subscribe(state.current, state.lastSeq); // resume exactly after the last event shown
  }
});

connection.addEventListener('event', (e) => onEvent(e.detail));
connection.addEventListener('servererror', (e) => showError(e.detail));

const FRIENDLY = {
  bad_request: 'That request was not accepted',
  not_found: 'Not found (it may have been deleted)',
  busy: 'The agent is still working; wait for it or interrupt it',
  too_large: 'That message is too large',
  unavailable: 'The platform cannot do that right now',
  unauthenticated: 'You are not signed in',
  internal: 'Something went wrong on the server',
};

function showError(err) {
  const code = err && err.code ? err.code : 'internal';
  const message = err && err.message ? err.message : String(err);
  $('notice-text').textContent = `${FRIENDLY[code] || 'Error'}: ${message}`;
  $('notice').hidden = false;
}

$('notice-close').addEventListener('click', () => { $('notice').hidden = true; });

// ---- agents sidebar ----

async function loadAgents() {
  try {
    const reply = await connection.request('agent.list');
    state.agents = new Map(reply.agents.map((a) => [a.id, a]));
    renderAgentList();
  } catch (err) {
    showError(err);
  }
}

function renderAgentList() {
  const list = $('agent-list');
  list.replaceChildren();
  for (const agent of state.agents.values()) {
    const li = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.dataset.agentId = agent.id;
    if (agent.id === state.current) button.setAttribute('aria-current', 'true');
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = agent.name;
    const badge = document.createElement('span');
    badge.className = `badge ${agent.status}`;
    badge.textContent = agent.status;
    button.append(name, badge);
    button.setAttribute('aria-label', `${agent.name}, ${agent.status}`);
    button.addEventListener('click', () => openAgent(agent.id));
    li.append(button);
    list.append(li);
  }
  $('no-agents').hidden = state.agents.size > 0;
}

function setAgentStatus(id, status, detail = '') {
  const agent = state.agents.get(id);
  if (agent) {
    agent.status = status;
    renderAgentList();
  }
  if (id === state.current) {
    state.status = status;
    const badge = $('agent-status');
    badge.className = `badge ${status}`;
    badge.textContent = status;
    const running = status === 'running';
    $('running').hidden = !running;
    $('running-text').textContent = running && detail ? `Working… ${detail}` : 'Working…';
    $('interrupt').hidden = !running;
    $('send').disabled = running || connection.state !== 'online';
  }
}

// ---- opening an agent and its conversation ----

async function openAgent(id) {
  if (state.current && state.current !== id) {
    connection.request('unsubscribe', { agentId: state.current }).catch(() => {});
  }
  state.current = id;
  state.lastSeq = 0;
  state.texts.clear();
  state.tools.clear();
  $('messages').replaceChildren();
  const agent = state.agents.get(id);
  $('agent-title').textContent = agent ? agent.name : id;
  setAgentStatus(id, agent ? agent.status : 'idle');
  $('empty').hidden = true;
  $('conversation').hidden = false;
  renderAgentList();
  if (window.matchMedia('(max-width: 720px)').matches) toggleSidebar(false);
  // After the dialog has handed focus back to its opener: the message box is where the user goes next.
  setTimeout(() => $('input').focus(), 0);
  await subscribe(id, 0);
}

async function subscribe(id, afterSeq) {
  try {
    await connection.request('subscribe', { agentId: id, afterSeq });
  } catch (err) {
    showError(err);
  }
}

function onEvent(event) {
  if (event.agentId !== state.current || event.seq <= state.lastSeq) {
    if (event.kind === 'agent_status') setAgentStatus(event.agentId, event.status);
    return; // another agent's event, or one already shown (never twice)
  }
  state.lastSeq = event.seq;
  const list = $('messages');
  const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  switch (event.kind) {
    case 'user_message': {
      const li = item('msg user');
      li.textContent = event.text;
      li.setAttribute('aria-label', 'You');
      break;
    }
    case 'assistant_text': {
      let block = state.texts.get(event.messageId);
      if (!block) {
        block = { el: item('msg assistant'), text: '' };
        state.texts.set(event.messageId, block);
      }
      block.text += event.text;
      queueRender(event.messageId);
      break;
    }
    case 'tool_call': {
      const li = item('tool-item');
      const details = document.createElement('details');
      details.className = 'tool pending';
      const summary = document.createElement('summary');
      summary.textContent = `${event.name} ${summarise(event.input)}`;
      const input = document.createElement('pre');
      input.className = 'input';
      input.textContent = JSON.stringify(event.input, null, 2);
      details.append(summary, input);
      li.append(details);
      state.tools.set(event.toolUseId, details);
      break;
    }
    case 'tool_result': {
      const details = state.tools.get(event.toolUseId);
      const result = document.createElement('pre');
      result.className = `result${event.isError ? ' error' : ''}`;
      result.textContent = event.output;
      if (details) {
        details.classList.remove('pending');
        if (event.isError) details.classList.add('error');
        details.append(result);
      } else {
        item('tool').append(result);
      }
      break;
    }
    case 'turn_completed': {
      const u = event.usage || {};
      const tokens = (u.inputTokens || 0) + (u.cacheReadInputTokens || 0) + (u.cacheCreationInputTokens || 0);
      item('footer').textContent = `Done in ${(event.durationMs / 1000).toFixed(1)} s · ${tokens} in / `
        + `${u.outputTokens || 0} out tokens · $${event.costUsd.toFixed(4)}`;
      break;
    }
    case 'turn_failed':
      item('footer failed').textContent = `Turn failed: ${event.reason}`;
      break;
    case 'turn_interrupted':
      item('footer').textContent = `Interrupted (${event.reason})`;
      break;
    case 'agent_status':
      setAgentStatus(event.agentId, event.status, event.detail);
      break;
    default:
      break;
  }
  if (nearBottom) requestAnimationFrame(() => { list.scrollTop = list.scrollHeight; });
}

function item(className) {
  const li = document.createElement('li');
  li.className = className;
  $('messages').append(li);
  return li;
}

function summarise(input) {
  if (!input || typeof input !== 'object') return '';
  const path = input.file_path || input.path || input.notebook_path;
  if (path) {
    const text = String(path);
    return text.length > 80 ? `…${text.slice(-79)}` : text; // the end of a path is the part that matters
  }
  const text = String(input.command || input.pattern || input.url || '');
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

function queueRender(messageId) {
  if (state.renderQueued.has(messageId)) return;
  state.renderQueued.add(messageId);
  requestAnimationFrame(() => {
    state.renderQueued.delete(messageId);
    const block = state.texts.get(messageId);
    if (!block) return;
    block.el.innerHTML = renderMarkdown(block.text);
    addCopyButtons(block.el);
  });
}

// ---- sending, interrupting ----

$('composer').addEventListener('submit', (e) => {
  e.preventDefault();
  send();
});

$('input').addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    send();
  }
});

async function send() {
  const input = $('input');
  const text = input.value;
  if (!text.trim() || !state.current) return;
  if (state.status === 'running') {
    showError({ code: 'busy', message: 'the agent is still answering your last message' });
    return;
  }
  try {
    setAgentStatus(state.current, 'running');
    await connection.request('send', { agentId: state.current, text });
    input.value = '';
  } catch (err) {
    setAgentStatus(state.current, state.agents.get(state.current)?.status === 'running' ? 'idle'
      : (state.agents.get(state.current)?.status || 'idle'));
    showError(err);
  }
}

$('interrupt').addEventListener('click', async () => {
  try {
    await connection.request('interrupt', { agentId: state.current });
  } catch (err) {
    showError(err);
  }
});

// ---- creating, editing, deleting agents ----

$('new-agent').addEventListener('click', () => openAgentDialog(null));
$('rename-agent').addEventListener('click', () => openAgentDialog(state.current));
$('agent-cancel').addEventListener('click', () => $('agent-dialog').close());

function openAgentDialog(id) {
  state.editing = id;
  const agent = id ? state.agents.get(id) : null;
  $('agent-dialog-title').textContent = agent ? 'Edit agent' : 'New agent';
  $('agent-save').textContent = agent ? 'Save' : 'Create';
  $('agent-name').value = agent ? agent.name : '';
  $('agent-instructions').value = agent ? agent.instructions : '';
  $('agent-model').value = agent ? agent.model : '';
  $('agent-tools').value = agent ? agent.allowedTools.join(', ') : '';
  $('agent-form-error').hidden = true;
  $('agent-dialog').showModal();
  $('agent-name').focus();
}

$('agent-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const fields = {
    name: $('agent-name').value,
    instructions: $('agent-instructions').value,
    model: $('agent-model').value.trim(),
    allowedTools: splitTools($('agent-tools').value),
  };
  try {
    if (state.editing) {
      const reply = await connection.request('agent.update', { agentId: state.editing, changes: fields });
      state.agents.set(reply.agent.id, reply.agent);
      if (reply.agent.id === state.current) $('agent-title').textContent = reply.agent.name;
      renderAgentList();
      $('agent-dialog').close();
    } else {
      const reply = await connection.request('agent.create', { agent: fields });
      state.agents.set(reply.agent.id, reply.agent);
      renderAgentList();
      $('agent-dialog').close();
      await openAgent(reply.agent.id);
    }
  } catch (err) {
    $('agent-form-error').textContent = err.message || String(err);
    $('agent-form-error').hidden = false;
  }
});

/** Splits "Write, Read Bash(git log:*)" into rules, keeping the spaces inside parentheses. */
function splitTools(text) {
  const out = [];
  let current = '';
  let depth = 0;
  for (const ch of text) {
    if (ch === '(') depth += 1;
    if (ch === ')') depth = Math.max(0, depth - 1);
    if (depth === 0 && (ch === ',' || /\s/.test(ch))) {
      if (current.trim()) out.push(current.trim());
      current = '';
    } else {
      current += ch;
    }
  }
  if (current.trim()) out.push(current.trim());
  return out;
}

$('delete-agent').addEventListener('click', () => {
  const agent = state.agents.get(state.current);
  $('confirm-text').textContent = `“${agent ? agent.name : state.current}” and its whole conversation and workspace`
    + ' will be deleted. This cannot be undone.';
  $('confirm-dialog').returnValue = '';
  $('confirm-dialog').showModal();
  $('confirm-cancel').focus();
});

$('confirm-dialog').addEventListener('close', async () => {
  if ($('confirm-dialog').returnValue !== 'ok') return;
  const id = state.current;
  try {
    await connection.request('agent.delete', { agentId: id });
    state.agents.delete(id);
    state.current = null;
    $('conversation').hidden = true;
    $('empty').hidden = false;
    renderAgentList();
  } catch (err) {
    showError(err);
  }
});

// ---- layout ----

function toggleSidebar(show) {
  const sidebar = $('sidebar');
  const visible = show ?? sidebar.hidden;
  sidebar.hidden = !visible;
  $('toggle-sidebar').setAttribute('aria-expanded', String(visible));
}
$('toggle-sidebar').addEventListener('click', () => toggleSidebar());

// A hook for the end-to-end tests (and for curious people at the console).
window.agentPlatform = { connection, state, dropConnection: () => connection.drop() };

connection.connect();
