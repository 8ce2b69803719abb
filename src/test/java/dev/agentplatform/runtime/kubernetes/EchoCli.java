package dev.agentplatform.runtime.kubernetes;

import dev.agentplatform.runtime.cli.CliConnection;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * An in-memory stand-in for a CLI reached through a runner: each user message line it takes is answered with a
 * stream-json {@code result} line (session {@code s1}); the data path itself is tested with the runner.
 */
final class EchoCli implements CliConnection {
  static final String RESULT = "{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false,"
      + "\"result\":\"done\",\"session_id\":\"s1\",\"total_cost_usd\":0.01,\"usage\":{\"input_tokens\":1,"
      + "\"output_tokens\":1},\"duration_ms\":5,\"num_turns\":1}\n";
  private static final byte[] EOF = new byte[0];

  private final LinkedBlockingQueue<byte[]> out = new LinkedBlockingQueue<>();
  private final ByteArrayOutputStream line = new ByteArrayOutputStream();
  final CountDownLatch killed = new CountDownLatch(1);

  @Override
  public OutputStream stdin() {
    return new OutputStream() {
      @Override
      public synchronized void write(int b) {
        if (b == '\n') {
          line.reset();
          out.add(RESULT.getBytes(StandardCharsets.UTF_8));
        } else {
          line.write(b);
        }
      }
    };
  }

  @Override
  public InputStream stdout() {
    return new InputStream() {
      private byte[] chunk = new byte[0];
      private int pos;

      @Override
      public int read() {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public int read(byte[] b, int off, int len) {
        if (chunk == EOF) {
          return -1;
        }
        if (pos == chunk.length) {
          try {
            chunk = out.take();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
          }
          pos = 0;
          if (chunk == EOF) {
            return -1;
          }
        }
        int n = Math.min(len, chunk.length - pos);
        System.arraycopy(chunk, pos, b, off, n);
        pos += n;
        return n;
      }
    };
  }

  @Override
  public InputStream stderr() {
    return new ByteArrayInputStream(new byte[0]);
  }

  @Override
  public boolean alive() {
    return killed.getCount() > 0;
  }

  @Override
  public void kill() {
    if (killed.getCount() > 0) {
      killed.countDown();
      out.add(EOF);
    }
  }

  @Override
  public String awaitExit() throws InterruptedException {
    killed.await();
    return "killed by signal 9";
  }

  @Override
  public String describe() {
    return "echo CLI";
  }
}
