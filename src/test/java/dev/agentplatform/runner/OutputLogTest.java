package dev.agentplatform.runner;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The bounded output ring: it grows up to its size keeping every byte in place, then drops the oldest. */
@Timeout(30)
class OutputLogTest {

  @Test
  void everyByteIsReadBackFromItsOffsetAcrossGrowthAndWrapping() throws Exception {
    int capacity = 300_000; // grows 64 KiB -> 128 KiB -> 256 KiB -> 300,000, then wraps
    OutputLog log = new OutputLog(capacity);
    byte[] all = new byte[1_000_000];
    for (int i = 0; i < all.length; i++) {
      all[i] = (byte) (i * 31 + i / 257);
    }
    int written = 0;
    for (int chunk = 1; written < all.length; chunk = chunk * 3 % 70_001 + 1) {
      int n = Math.min(chunk, all.length - written);
      log.append(all, written, n);
      written += n;
      long earliest = log.earliest();
      assertEquals(Math.max(0, written - capacity), earliest);
      byte[] got = readAll(log, earliest, written);
      assertArrayEquals(Arrays.copyOfRange(all, (int) earliest, written), got, "after " + written + " bytes");
    }
    OutputLog.GoneException gone = assertThrows(OutputLog.GoneException.class,
        () -> log.read(log.earliest() - 1, new byte[10]));
    assertEquals(all.length - capacity, gone.earliest);
    log.close();
    assertEquals(-1, log.read(all.length, new byte[10]));
  }

  private static byte[] readAll(OutputLog log, long from, long to) throws Exception {
    byte[] out = new byte[(int) (to - from)];
    byte[] buf = new byte[50_000];
    int at = 0;
    while (at < out.length) {
      int n = log.read(from + at, buf);
      System.arraycopy(buf, 0, out, at, n);
      at += n;
    }
    return out;
  }
}
