package dev.agentplatform.conversation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.concurrent.Workers;
import dev.agentplatform.error.StoreException;
import dev.agentplatform.conversation.EventPayload.AssistantText;
import dev.agentplatform.conversation.EventPayload.UserMessage;
import dev.agentplatform.error.ErrorCode;
import dev.agentplatform.error.PlatformException;
import dev.agentplatform.store.sqlite.SqliteStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The conversation log over a real SQLite store: numbering, durability before delivery, replay then live, calls
 * within the store's limits, idle eviction, and deleting an agent while its events are still being written.
 */
class ConversationServiceTest {

  @TempDir
  Path dir;

  private SqliteStore store;
  private Workers workers;
  private ConversationService conversations;

  @BeforeEach
  void start() {
    store = SqliteStore.open(dir);
    workers = new Workers();
    conversations = new ConversationService(store, workers);
  }

  @AfterEach
  void stop() {
    store.close();
  }

  @Test
  void appendedEventsAreNumberedFromOneAndStoredBeforeTheyComplete() throws Exception {
    ConversationEvent first = conversations.append("a1", "t1", new UserMessage("hi"), false).get(5, TimeUnit.SECONDS);
    assertEquals(1, first.seq());
    assertEquals(List.of(first), store.events("a1", 0, 10));
    ConversationEvent second = conversations.append("a1", "t1", new UserMessage("again"), false).get(5,
        TimeUnit.SECONDS);
    assertEquals(2, second.seq());
    assertEquals(2, conversations.lastSeq("a1"));
  }

  @Test
  void subscribersGetEveryEventExactlyOnceWhileWritesRace() throws Exception {
    int total = 400;
    List<CompletableFuture<ConversationEvent>> writes = new ArrayList<>();
    for (int i = 0; i < total / 2; i++) {
      writes.add(conversations.append("a2", "t", new UserMessage("m" + i), false));
    }
    // Subscribe from 0 while the other half is still being written: replay and live must join without gap or duplicate.
    List<ConversationEvent> seen = new CopyOnWriteArrayList<>();
    List<ConversationEvent> lateSeen = new CopyOnWriteArrayList<>();
    Subscription s = conversations.subscribe("a2", 0, seen::add, e -> {
      throw e;
    });
    for (int i = total / 2; i < total; i++) {
      writes.add(conversations.append("a2", "t", new UserMessage("m" + i), false));
    }
    Subscription late = conversations.subscribe("a2", 150, lateSeen::add, e -> {
      throw e;
    });
    CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while ((seen.size() < total || lateSeen.size() < total - 150) && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertEquals(total, seen.size());
    for (int i = 0; i < total; i++) {
      assertEquals(i + 1, seen.get(i).seq());
      assertEquals("m" + i, ((UserMessage) seen.get(i).payload()).text());
    }
    assertEquals(total - 150, lateSeen.size());
    assertEquals(151, lateSeen.get(0).seq());
    s.close();
    late.close();
  }

  @Test
  void deltasOfOneMessageQueuedBehindAWriteAreMergedAndNoTextIsLost() throws Exception {
    // The first write is held until every delta is queued behind it: the other 199 must then go as one event.
    Watched watched = new Watched(store);
    CountDownLatch firstWriteStarted = new CountDownLatch(1);
    CountDownLatch allQueued = new CountDownLatch(1);
    watched.gate = () -> {
      firstWriteStarted.countDown();
      await(allQueued);
    };
    ConversationService c = new ConversationService(watched, workers);
    List<CompletableFuture<ConversationEvent>> writes = new ArrayList<>();
    StringBuilder expected = new StringBuilder();
    writes.add(c.append("a3", "t", new AssistantText("msg", "d0 "), false));
    expected.append("d0 ");
    assertTrue(firstWriteStarted.await(10, TimeUnit.SECONDS), "the first delta's write started");
    for (int i = 1; i < 200; i++) {
      writes.add(c.append("a3", "t", new AssistantText("msg", "d" + i + " "), false));
      expected.append("d").append(i).append(' ');
    }
    allQueued.countDown();
    CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
    List<ConversationEvent> stored = store.events("a3", 0, 1000);
    assertEquals(2, stored.size(), "the first delta alone, then the 199 queued behind it merged into one event");
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < stored.size(); i++) {
      assertEquals(i + 1, stored.get(i).seq());
      text.append(((AssistantText) stored.get(i).payload()).text());
    }
    assertEquals(expected.toString(), text.toString());
    // Each append's future completes with the stored event that holds its text.
    for (int i = 0; i < writes.size(); i++) {
      String part = "d" + i + " ";
      assertTrue(((AssistantText) writes.get(i).get().payload()).text().contains(part));
    }
  }

  @Test
  void whatQueuedBehindAFailedWriteFailsTooAndLaterEventsAreStoredAgain() throws Exception {
    Watched watched = new Watched(store);
    CountDownLatch firstWriteStarted = new CountDownLatch(1);
    CountDownLatch secondQueued = new CountDownLatch(1);
    watched.gate = () -> {
      firstWriteStarted.countDown();
      await(secondQueued);
    };
    watched.failNext = true;
    ConversationService c = new ConversationService(watched, workers);
    CompletableFuture<ConversationEvent> question = c.append("a9", "t", new UserMessage("question"), false);
    assertTrue(firstWriteStarted.await(10, TimeUnit.SECONDS), "the first write started");
    CompletableFuture<ConversationEvent> reply = c.append("a9", "t", new AssistantText("m", "reply"), false);
    secondQueued.countDown();
    ExecutionException lost = assertThrows(ExecutionException.class, () -> question.get(10, TimeUnit.SECONDS));
    assertTrue(lost.getCause() instanceof StoreException, lost.toString());
    ExecutionException behind = assertThrows(ExecutionException.class, () -> reply.get(10, TimeUnit.SECONDS));
    assertTrue(behind.getCause().getMessage().contains("an earlier write"), behind.getCause().getMessage());
    assertEquals(List.of(), store.events("a9", 0, 10), "no reply is stored without its question");
    ConversationEvent later = c.append("a9", "t2", new UserMessage("again"), false).get(10, TimeUnit.SECONDS);
    assertEquals(1, later.seq(), "what is queued after the failure is stored as usual");
  }

  private static void await(CountDownLatch latch) {
    try {
      if (!latch.await(10, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the test never released the store");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The SQLite store, seen through a wrapper that records each append call's size and can slow appends down. */
  private static class Watched implements EventStore {
    final EventStore inner;
    final List<Integer> calls = new CopyOnWriteArrayList<>();
    final List<Long> callBytes = new CopyOnWriteArrayList<>();
    volatile long delayMillis;
    /** Runs before the first append call only (null: nothing). */
    volatile Runnable gate;
    /** Makes the next append call fail (after its gate). */
    volatile boolean failNext;

    Watched(EventStore inner) {
      this.inner = inner;
    }

    @Override
    public void appendEvents(String agentId, List<ConversationEvent> events) {
      Runnable g = gate;
      gate = null;
      if (g != null) {
        g.run();
      }
      if (failNext) {
        failNext = false;
        throw new StoreException("the store refused the write (test)", null);
      }
      calls.add(events.size());
      callBytes.add(events.stream().mapToLong(e -> StoredText.utf8Bytes(EventJson.payloadToString(e.payload(), false)))
          .sum());
      if (delayMillis > 0) {
        try {
          Thread.sleep(delayMillis); // a slow store, so that events queue up behind a write
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      inner.appendEvents(agentId, events);
    }

    @Override
    public List<ConversationEvent> events(String agentId, long afterSeq, int limit) {
      return inner.events(agentId, afterSeq, limit);
    }

    @Override
    public long lastSeq(String agentId) {
      return inner.lastSeq(agentId);
    }

    @Override
    public void deleteEvents(String agentId) {
      inner.deleteEvents(agentId);
    }
  }

  private static List<ConversationEvent> all(List<CompletableFuture<ConversationEvent>> writes) throws Exception {
    CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    List<ConversationEvent> out = new ArrayList<>();
    for (CompletableFuture<ConversationEvent> w : writes) {
      out.add(w.get());
    }
    return out;
  }

  @Test
  void aLongQueueGoesToTheStoreInCallsOfAtMostFourHundredEvents() throws Exception {
    Watched watched = new Watched(store);
    watched.delayMillis = 200;
    ConversationService c = new ConversationService(watched, workers);
    List<CompletableFuture<ConversationEvent>> writes = new ArrayList<>();
    for (int i = 0; i < 1200; i++) {
      writes.add(c.append("many", "t", new UserMessage("m" + i), false));
    }
    all(writes);
    assertEquals(1200, store.events("many", 0, 2000).size());
    assertTrue(watched.calls.stream().allMatch(n -> n <= EventStore.MAX_EVENTS_PER_CALL), watched.calls.toString());
    assertTrue(watched.calls.contains(EventStore.MAX_EVENTS_PER_CALL), "the queue did build up: " + watched.calls);
  }

  @Test
  void anIdleLogIsDroppedAndTheNextAppendContinuesTheSeqsFromTheStore() throws Exception {
    ConversationService c = new ConversationService(store, id -> true, workers, Duration.ZERO);
    all(List.of(c.append("idle", "t", new UserMessage("one"), false), c.append("idle", "t", new UserMessage("two"),
        false)));
    evictUntilDropped(c, "idle");
    assertFalse(c.holds("idle"), "the idle log is dropped");
    assertEquals(2, c.lastSeq("idle"));
    assertFalse(c.holds("idle"), "reading the last seq keeps nothing");
    assertEquals(3, c.append("idle", "t", new UserMessage("three"), false).get(5, TimeUnit.SECONDS).seq());

    Subscription s = c.subscribe("idle", 3, e -> {
    }, e -> {
      throw e;
    });
    c.evictIdle();
    assertTrue(c.holds("idle"), "a log with a subscriber stays");
    s.close();
    evictUntilDropped(c, "idle");
    assertEquals(0, c.size());
  }

  /** The writer ends its turn just after it completed the futures: evicts until it has (or 5 s passed). */
  private static void evictUntilDropped(ConversationService c, String agentId) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    c.evictIdle();
    while (c.holds(agentId) && System.nanoTime() < deadline) {
      Thread.sleep(10);
      c.evictIdle();
    }
  }

  @Test
  void evictionRacingAppendsNeverAssignsASeqTwice() throws Exception {
    ConversationService c = new ConversationService(store, id -> true, workers, Duration.ZERO);
    AtomicBoolean done = new AtomicBoolean();
    Thread evictor = new Thread(() -> {
      while (!done.get()) {
        c.evictIdle();
      }
    });
    evictor.start();
    List<CompletableFuture<ConversationEvent>> writes = new ArrayList<>();
    try {
      for (int i = 0; i < 2000; i++) {
        writes.add(c.append("race", "t", new UserMessage("m" + i), false));
        if (i % 50 == 0) {
          writes.get(i).get(5, TimeUnit.SECONDS); // let the log go idle now and then, so it is evicted mid-stream
        }
      }
      all(writes);
    } finally {
      done.set(true);
      evictor.join();
    }
    Set<Long> seqs = new HashSet<>();
    for (ConversationEvent e : all(writes)) {
      assertTrue(seqs.add(e.seq()), "seq " + e.seq() + " assigned twice");
    }
    assertEquals(2000, store.events("race", 0, 3000).size());
    assertEquals(2000, store.lastSeq("race"));
  }

  @Test
  void deletingWaitsForQueuedEventsDeletesThemAllAndRefusesLateOnes() throws Exception {
    Watched watched = new Watched(store);
    Set<String> gone = java.util.concurrent.ConcurrentHashMap.newKeySet();
    ConversationService c = new ConversationService(watched, id -> !gone.contains(id), workers, Duration.ZERO);
    List<ConversationEvent> seen = new CopyOnWriteArrayList<>();
    Subscription s = c.subscribe("doomed", 0, seen::add, e -> {
      throw e;
    });
    watched.delayMillis = 100;
    List<CompletableFuture<ConversationEvent>> queued = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      queued.add(c.append("doomed", "t", new AssistantText("m" + i, "text " + i), false));
    }
    c.deleteEvents("doomed");
    for (CompletableFuture<ConversationEvent> q : queued) {
      assertTrue(q.isDone(), "the delete waited for every queued event");
    }
    assertTrue(store.events("doomed", 0, 100).isEmpty(), "no event is left behind");
    CompletableFuture<ConversationEvent> during = c.append("doomed", "t", new AssistantText("late", "late"), false);
    assertEquals(ErrorCode.NOT_FOUND, refusal(during), "while the record is deleted, appends are refused");

    gone.add("doomed"); // the agent's record is deleted
    c.release("doomed", true);
    assertEquals(0, c.size(), "nothing of the agent is left in memory");
    assertTrue(seen.size() <= 50);
    s.close();
    CompletableFuture<ConversationEvent> late = c.append("doomed", "t", new AssistantText("late", "late text"), false);
    assertEquals(ErrorCode.NOT_FOUND, refusal(late), "a late event finds the agent gone");
    assertTrue(store.events("doomed", 0, 100).isEmpty(), "a late event does not bring the agent's events back");
    evictUntilDropped(c, "doomed");
    assertEquals(0, c.size(), "the late event's log goes when idle");
  }

  private static ErrorCode refusal(CompletableFuture<ConversationEvent> f) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(5, TimeUnit.SECONDS));
    return ((PlatformException) e.getCause()).code();
  }

  @Test
  void aFailedDeleteLeavesTheConversationUsable() throws Exception {
    Watched failing = new Watched(store) {
      @Override
      public void deleteEvents(String agentId) {
        throw new dev.agentplatform.error.StoreException("refused", null);
      }
    };
    ConversationService c = new ConversationService(failing, workers);
    c.append("kept", "t", new UserMessage("one"), false).get(5, TimeUnit.SECONDS);
    assertThrows(dev.agentplatform.error.StoreException.class, () -> c.deleteEvents("kept"));
    assertEquals(2, c.append("kept", "t", new UserMessage("two"), false).get(5, TimeUnit.SECONDS).seq());
  }

  @Test
  void bigEventsGoToTheStoreInCallsOfAtMostFourMebibytes() throws Exception {
    Watched watched = new Watched(store);
    watched.delayMillis = 300;
    ConversationService c = new ConversationService(watched, workers);
    String big = "o".repeat(250 * 1024);
    List<CompletableFuture<ConversationEvent>> writes = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      writes.add(c.append("big", "t", new EventPayload.ToolResult("t" + i, big, false), false));
    }
    all(writes);
    assertEquals(40, store.events("big", 0, 100).size());
    assertTrue(watched.callBytes.stream().allMatch(b -> b <= AgentLog.MAX_BYTES_PER_CALL), watched.callBytes
        .toString());
    assertTrue(watched.calls.stream().anyMatch(n -> n > 1), "some calls did carry several events: " + watched.calls);
  }

  @Test
  void mergedTextStopsAtTheStoredTextLimit() throws Exception {
    Watched watched = new Watched(store);
    watched.delayMillis = 300;
    ConversationService c = new ConversationService(watched, workers);
    String delta = "\u00e9".repeat(1024); // 2 KiB stored
    List<CompletableFuture<ConversationEvent>> writes = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      writes.add(c.append("long", "t", new AssistantText("m", delta), false));
    }
    all(writes);
    List<ConversationEvent> stored = store.events("long", 0, 1000);
    StringBuilder text = new StringBuilder();
    for (ConversationEvent e : stored) {
      String t = ((AssistantText) e.payload()).text();
      assertTrue(StoredText.utf8Bytes(t) <= StoredText.MAX_TEXT_BYTES, "an event of " + StoredText.utf8Bytes(t));
      text.append(t);
    }
    assertEquals(delta.repeat(400), text.toString(), "no text is lost");
    assertTrue(stored.size() < 400, "deltas did merge: " + stored.size());
  }
}
