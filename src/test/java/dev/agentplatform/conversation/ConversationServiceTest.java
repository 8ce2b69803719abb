package dev.agentplatform.conversation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.concurrent.Workers;
import dev.agentplatform.conversation.EventPayload.AssistantText;
import dev.agentplatform.conversation.EventPayload.UserMessage;
import dev.agentplatform.store.sqlite.SqliteStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The conversation log over a real SQLite store: numbering, durability before delivery, replay then live. */
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
    ConversationEvent second = conversations.append("a1", "t1", new UserMessage("again"), false).get(5, TimeUnit.SECONDS);
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
    Subscription s = conversations.subscribe("a2", 0, seen::add, e -> { throw e; });
    for (int i = total / 2; i < total; i++) {
      writes.add(conversations.append("a2", "t", new UserMessage("m" + i), false));
    }
    Subscription late = conversations.subscribe("a2", 150, lateSeen::add, e -> { throw e; });
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
  void queuedDeltasOfOneMessageMayMergeButNoTextIsLost() throws Exception {
    List<CompletableFuture<ConversationEvent>> writes = new ArrayList<>();
    StringBuilder expected = new StringBuilder();
    for (int i = 0; i < 200; i++) {
      writes.add(conversations.append("a3", "t", new AssistantText("msg", "d" + i + " "), false));
      expected.append("d").append(i).append(' ');
    }
    CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
    List<ConversationEvent> stored = store.events("a3", 0, 1000);
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < stored.size(); i++) {
      assertEquals(i + 1, stored.get(i).seq());
      text.append(((AssistantText) stored.get(i).payload()).text());
    }
    assertEquals(expected.toString(), text.toString());
    assertTrue(stored.size() <= 200);
    // Each append's future completes with the stored event that holds its text.
    for (int i = 0; i < writes.size(); i++) {
      String part = "d" + i + " ";
      assertTrue(((AssistantText) writes.get(i).get().payload()).text().contains(part));
    }
  }
}
