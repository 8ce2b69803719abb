// Unit tests of the page's WebSocket client (src/main/webapp/app/connection.js) against a stand-in WebSocket and
// mocked timers: which closes make the page reconnect, and how long it waits. Run by BrowserIT with the browser tests.
import { test, mock, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';

/** A WebSocket the test drives: it opens when told to say hello, and closes with the code the test gives. */
class FakeSocket extends EventTarget {
  static OPEN = 1;
  static made = [];

  constructor(url) {
    super();
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    FakeSocket.made.push(this);
  }

  send(text) {
    this.sent.push(JSON.parse(text));
  }

  receive(frame) {
    const e = new Event('message');
    e.data = JSON.stringify(frame);
    this.dispatchEvent(e);
  }

  close() {}

  hello() {
    this.readyState = FakeSocket.OPEN;
    const e = new Event('message');
    e.data = JSON.stringify({ type: 'hello', protocol: 1, userId: 'ann', maxFrameBytes: 262144 });
    this.dispatchEvent(e);
  }

  closedByServer(code, reason = '') {
    this.readyState = 3;
    const e = new Event('close');
    e.code = code;
    e.reason = reason;
    this.dispatchEvent(e);
  }
}

globalThis.WebSocket = FakeSocket;
const { Connection } = await import('../../main/webapp/app/connection.js');

let states;

function connect() {
  const c = new Connection('ws://platform.test/ws');
  c.addEventListener('state', (e) => states.push(e.detail));
  c.connect();
  return c;
}

beforeEach(() => {
  FakeSocket.made = [];
  states = [];
  mock.timers.enable({ apis: ['setTimeout'] });
  // The jitter's middle: every delay is exactly its base (0.75 + 0.5 / 2 = 1).
  mock.method(Math, 'random', () => 0.5);
});

afterEach(() => {
  mock.timers.reset();
  mock.restoreAll();
});

test('a server that restarts (1012) makes the page reconnect, and it backs off while the server refuses it', () => {
  connect();
  FakeSocket.made[0].hello();
  FakeSocket.made[0].closedByServer(1012, 'the server is restarting: reconnect and resume from your last seq');
  assert.deepEqual(states.at(-1), { state: 'offline', retryIn: 1, code: 1012,
    reason: 'the server is restarting: reconnect and resume from your last seq' });

  mock.timers.tick(499);
  assert.equal(FakeSocket.made.length, 1, 'not before the first delay (0.5 s)');
  mock.timers.tick(1);
  assert.equal(FakeSocket.made.length, 2, 'reconnects after 0.5 s');

  // A stopping server closes new connections at once (1012, no hello): each further try waits twice as long.
  FakeSocket.made[1].closedByServer(1012);
  mock.timers.tick(999);
  assert.equal(FakeSocket.made.length, 2);
  mock.timers.tick(1);
  assert.equal(FakeSocket.made.length, 3, 'the second try after 1 s');
  FakeSocket.made[2].closedByServer(1012);
  mock.timers.tick(1999);
  assert.equal(FakeSocket.made.length, 3);
  mock.timers.tick(1);
  assert.equal(FakeSocket.made.length, 4, 'the third after 2 s');

  // The new server says hello: online, and the next loss starts from the short delay again.
  FakeSocket.made[3].hello();
  assert.equal(states.at(-1).state, 'online');
  FakeSocket.made[3].closedByServer(1012);
  mock.timers.tick(500);
  assert.equal(FakeSocket.made.length, 5);
});

test('the delay grows to at most 10 s and is spread by jitter', () => {
  connect();
  for (let i = 0; i < 8; i++) {
    FakeSocket.made.at(-1).closedByServer(1006);
    mock.timers.tick(10000);
  }
  assert.equal(FakeSocket.made.length, 9, 'one new try per close, none waits longer than 10 s');
  assert.equal(states.filter((s) => s.state === 'offline').at(-1).retryIn, 10);

  mock.method(Math, 'random', () => 0);
  FakeSocket.made.at(-1).closedByServer(1012);
  assert.equal(states.at(-1).retryIn, 8, 'the lowest jitter waits three quarters of the delay');
});

test('every close a server sends makes the page reconnect', () => {
  for (const code of [1001, 1006, 1011, 1012, 1013]) {
    FakeSocket.made = [];
    connect();
    FakeSocket.made[0].hello();
    FakeSocket.made[0].closedByServer(code);
    mock.timers.tick(500);
    assert.equal(FakeSocket.made.length, 2, `reconnects after ${code}`);
  }
});

test('the page asks for batched events on hello and shows an events message as its events, in order', () => {
  const c = connect();
  const seen = [];
  c.addEventListener('event', (e) => seen.push(e.detail.seq));
  FakeSocket.made[0].hello();
  assert.deepEqual(FakeSocket.made[0].sent, [{ type: 'options', batch: true, id: '1' }], 'the first frame sent');
  FakeSocket.made[0].receive({ type: 'reply', id: '1', batch: true });
  FakeSocket.made[0].receive({ type: 'event', event: { agentId: 'a', seq: 1 } });
  FakeSocket.made[0].receive({ type: 'events', agentId: 'a',
    events: [{ agentId: 'a', seq: 2 }, { agentId: 'a', seq: 3 }] });
  FakeSocket.made[0].receive({ type: 'event', event: { agentId: 'a', seq: 4 } });
  assert.deepEqual(seen, [1, 2, 3, 4]);
});

test('a server that does not know batches refuses the option, and the page goes on with event frames', async () => {
  const c = connect();
  const seen = [];
  c.addEventListener('event', (e) => seen.push(e.detail.seq));
  FakeSocket.made[0].hello();
  FakeSocket.made[0].receive({ type: 'error', id: '1', code: 'bad_request', message: "unknown type 'options'" });
  await Promise.resolve();
  FakeSocket.made[0].receive({ type: 'event', event: { agentId: 'a', seq: 1 } });
  assert.deepEqual(seen, [1]);
  assert.equal(states.at(-1).state, 'online');
});
