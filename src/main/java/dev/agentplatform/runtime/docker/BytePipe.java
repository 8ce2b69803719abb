package dev.agentplatform.runtime.docker;

import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * An input stream fed in chunks by other threads (an exec's output frames, or the messages for its stdin), unlike
 * {@link java.io.PipedInputStream} without ties to the threads that write; {@link #close()} ends it for the reader.
 */
final class BytePipe extends InputStream {

  private static final byte[] END = new byte[0];

  private final LinkedBlockingQueue<byte[]> chunks = new LinkedBlockingQueue<>();
  private byte[] current = new byte[0];
  private int pos;
  private volatile boolean ended;

  /** Adds bytes for the reader (ignored once ended). */
  void write(byte[] bytes) {
    if (!ended && bytes.length > 0) {
      chunks.add(bytes.clone());
    }
  }

  /** Lets the reader finish what was written, then see the end of the stream. */
  void end() {
    if (!ended) {
      ended = true;
      chunks.add(END);
    }
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (len == 0) {
      return 0;
    }
    if (pos == current.length) {
      if (current == END) {
        return -1;
      }
      try {
        current = chunks.take();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException("interrupted while waiting for data");
      }
      pos = 0;
      if (current == END) {
        return -1;
      }
    }
    int n = Math.min(len, current.length - pos);
    System.arraycopy(current, pos, b, off, n);
    pos += n;
    return n;
  }

  @Override
  public int available() {
    return current.length - pos;
  }

  @Override
  public void close() {
    end();
  }
}
