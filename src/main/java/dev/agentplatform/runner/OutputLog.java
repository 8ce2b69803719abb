package dev.agentplatform.runner;

import java.util.concurrent.TimeUnit;

/**
 * One output stream of a CLI, kept in a bounded ring with absolute byte offsets: a reader asks for the bytes from
 * an offset on and waits for them, so a reader that reconnects resumes exactly where it left off, as long as its
 * offset is still held (the last {@code capacity} bytes).
 */
final class OutputLog {

  /** The offset asked for fell out of the ring; the earliest one still held is {@link #earliest}. */
  static final class GoneException extends Exception {
    private static final long serialVersionUID = 1L;
    final long earliest;

    GoneException(long offset, long earliest) {
      super("offset " + offset + " is no longer held; the earliest held is " + earliest);
      this.earliest = earliest;
    }
  }

  private static final int FIRST_SIZE = 64 * 1024;

  private final int capacity;
  /** Grows (doubling) up to the capacity as output comes; until it is full nothing is dropped and nothing wraps. */
  private byte[] ring;
  private long start;
  private long end;
  private boolean closed;

  OutputLog(int capacity) {
    if (capacity <= 0) {
      throw new IllegalArgumentException("capacity must be positive: " + capacity);
    }
    this.capacity = capacity;
    this.ring = new byte[Math.min(capacity, FIRST_SIZE)];
  }

  /** Appends bytes; past the capacity the oldest are dropped. */
  synchronized void append(byte[] b, int off, int len) {
    if (ring.length < capacity && end + len > ring.length) {
      // Nothing was dropped yet (start is 0) and the bytes lie in [0, end): a plain copy keeps their places.
      byte[] bigger = new byte[(int) Math.min(capacity, Math.max(end + len, 2L * ring.length))];
      System.arraycopy(ring, 0, bigger, 0, (int) end);
      ring = bigger;
    }
    if (len >= ring.length) {
      off += len - ring.length;
      end += len - ring.length;
      len = ring.length;
    }
    int at = (int) (end % ring.length);
    int first = Math.min(len, ring.length - at);
    System.arraycopy(b, off, ring, at, first);
    System.arraycopy(b, off + first, ring, 0, len - first);
    end += len;
    start = Math.max(start, end - ring.length);
    notifyAll();
  }

  /** No more bytes will come: readers that reached the end get -1. */
  synchronized void close() {
    closed = true;
    notifyAll();
  }

  /** The offset of the earliest byte still held. */
  synchronized long earliest() {
    return start;
  }

  /** How many bytes were ever appended (the offset the next byte gets). */
  synchronized long end() {
    return end;
  }

  synchronized boolean closed() {
    return closed;
  }

  /**
   * Copies the bytes from {@code offset} on into {@code dst}, waiting until there are some; -1 when the log is
   * closed and {@code offset} is its end.
   *
   * @throws GoneException when {@code offset} is no longer held
   * @throws IllegalArgumentException when {@code offset} lies beyond the end
   */
  synchronized int read(long offset, byte[] dst) throws GoneException, InterruptedException {
    return read(offset, dst, Long.MAX_VALUE);
  }

  /**
   * As {@link #read(long, byte[])}, but waits at most {@code waitMillis} for a byte: 0 when none came by then.
   */
  synchronized int read(long offset, byte[] dst, long waitMillis) throws GoneException, InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.min(waitMillis, Long.MAX_VALUE / 2_000_000));
    while (offset == end && !closed) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return 0;
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
    if (offset < start) {
      throw new GoneException(offset, start);
    }
    if (offset > end) {
      throw new IllegalArgumentException("offset " + offset + " lies beyond the end, " + end);
    }
    if (offset == end) {
      return -1;
    }
    int n = (int) Math.min(dst.length, end - offset);
    int at = (int) (offset % ring.length);
    int first = Math.min(n, ring.length - at);
    System.arraycopy(ring, at, dst, 0, first);
    System.arraycopy(ring, 0, dst, first, n - first);
    return n;
  }
}
