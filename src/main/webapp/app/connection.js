// The page's WebSocket to the platform: requests with ids and promised replies, live events, and reconnection
// with backoff. docs/protocol.md describes the frames.

export class Connection extends EventTarget {
  constructor(url) {
    super();
    this.url = url;
    this.socket = null;
    this.pending = new Map();
    this.nextId = 1;
    this.attempt = 0;
    this.state = 'connecting';
    this.timer = null;
  }

  connect() {
    clearTimeout(this.timer);
    this.setState('connecting');
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.addEventListener('message', (e) => this.receive(e.data));
    socket.addEventListener('close', (e) => {
      if (this.socket !== socket) return;
      this.socket = null;
      for (const { reject } of this.pending.values()) {
        reject({ code: 'unavailable', message: 'the connection was lost; it will reconnect' });
      }
      this.pending.clear();
      this.scheduleReconnect(e.code, e.reason);
    });
  }

  scheduleReconnect(code, reason) {
    // Every close reconnects: 1012 (the server restarts, e.g. a pod that stops: another replica or the restarted
    // server takes over), 1001 and 1013 (resume from the last seq), a lost network. Exponential backoff with jitter,
    // capped at 10 s; only a hello resets it, so a stopping server that closes new connections at once is retried
    // less and less often, and the clients of one server do not all come back at the same moment.
    const delay = Math.min(10000, 500 * 2 ** this.attempt) * (0.75 + Math.random() / 2);
    this.attempt += 1;
    this.setState('offline', { retryIn: Math.round(delay / 1000), code, reason });
    this.timer = setTimeout(() => this.connect(), delay);
  }

  receive(text) {
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (frame.type === 'hello') {
      this.attempt = 0;
      this.setState('online', { userId: frame.userId });
      // Asked before anything else is sent, so every event after it may come batched; a server that does not know
      // the option answers bad_request and sends each event in its own frame, which is handled the same way.
      this.request('options', { batch: true }).catch(() => {});
      this.dispatchEvent(new CustomEvent('hello', { detail: frame }));
    } else if ((frame.type === 'reply' || frame.type === 'error') && frame.id != null && this.pending.has(frame.id)) {
      const { resolve, reject } = this.pending.get(frame.id);
      this.pending.delete(frame.id);
      if (frame.type === 'reply') resolve(frame);
      else reject(frame);
    } else if (frame.type === 'event') {
      this.dispatchEvent(new CustomEvent('event', { detail: frame.event }));
    } else if (frame.type === 'events' && Array.isArray(frame.events)) {
      for (const event of frame.events) this.dispatchEvent(new CustomEvent('event', { detail: event }));
    } else if (frame.type === 'error') {
      this.dispatchEvent(new CustomEvent('servererror', { detail: frame }));
    }
  }

  request(type, fields = {}) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN || this.state !== 'online') {
      return Promise.reject({ code: 'unavailable', message: 'not connected to the server yet' });
    }
    const id = String(this.nextId++);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.send(JSON.stringify({ ...fields, type, id }));
    });
  }

  /** Closes the socket as a network drop would (the page then reconnects); used by the end-to-end tests. */
  drop() {
    if (this.socket) this.socket.close(4000, 'dropped');
  }

  setState(state, detail = {}) {
    this.state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: { state, ...detail } }));
  }
}
