package dev.agentplatform.runtime.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The pipe between an exec's frames and the CLI session's line reader. */
class BytePipeTest {

  @Test
  void bytesWrittenByThreadsThatHaveEndedAreStillRead() throws Exception {
    // java.io.PipedInputStream fails here ("Write end dead"): the threads that write frames come and go.
    BytePipe pipe = new BytePipe();
    Thread writer = new Thread(() -> {
      pipe.write("{\"a\":1}\n{\"b\"".getBytes(StandardCharsets.UTF_8));
      pipe.write(":2}\n".getBytes(StandardCharsets.UTF_8));
    });
    writer.start();
    writer.join();
    BufferedReader lines = new BufferedReader(new InputStreamReader(pipe, StandardCharsets.UTF_8));
    assertEquals("{\"a\":1}", lines.readLine());
    assertEquals("{\"b\":2}", lines.readLine());
    pipe.end();
    assertEquals(null, lines.readLine(), "the end of the exec is the end of the stream");
  }

  @Test
  void aReaderWaitsForDataAndTheEndReleasesIt() throws Exception {
    BytePipe pipe = new BytePipe();
    CompletableFuture<Integer> read = CompletableFuture.supplyAsync(() -> {
      try {
        return pipe.read(new byte[10], 0, 10);
      } catch (java.io.IOException e) {
        throw new IllegalStateException(e);
      }
    });
    Thread.sleep(100);
    assertTrue(!read.isDone(), "nothing to read yet");
    pipe.end();
    assertEquals(-1, read.get(5, TimeUnit.SECONDS));
    pipe.write(new byte[] {1});
    assertEquals(-1, pipe.read(), "nothing is taken after the end");
  }

  @Test
  void theWriterKeepsItsOwnBuffer() throws Exception {
    BytePipe pipe = new BytePipe();
    byte[] chunk = "abc".getBytes(StandardCharsets.UTF_8);
    pipe.write(chunk);
    chunk[0] = 'x';
    pipe.end();
    assertEquals("abc", new String(pipe.readAllBytes(), StandardCharsets.UTF_8));
  }
}
