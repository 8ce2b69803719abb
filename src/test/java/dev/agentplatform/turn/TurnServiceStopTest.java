package dev.agentplatform.turn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.agent.Agent;
import dev.agentplatform.agent.AgentService;
import dev.agentplatform.agent.AgentStatus;
import dev.agentplatform.concurrent.Workers;
import dev.agentplatform.config.PlatformConfig;
import dev.agentplatform.config.Secrets;
import dev.agentplatform.conversation.ConversationEvent;
import dev.agentplatform.conversation.ConversationService;
import dev.agentplatform.conversation.EventPayload.AgentStatusChanged;
import dev.agentplatform.conversation.EventPayload.TurnInterrupted;
import dev.agentplatform.conversation.EventPayload.Usage;
import dev.agentplatform.error.ErrorCode;
import dev.agentplatform.error.PlatformException;
import dev.agentplatform.metrics.PlatformMetrics;
import dev.agentplatform.replica.LeaseKeeper;
import dev.agentplatform.replica.Replica;
import dev.agentplatform.replica.local.OneServer;
import dev.agentplatform.runtime.AgentRuntime;
import dev.agentplatform.runtime.RunningTurn;
import dev.agentplatform.runtime.RuntimeEvent;
import dev.agentplatform.runtime.RuntimeStatus;
import dev.agentplatform.runtime.TurnListener;
import dev.agentplatform.runtime.TurnRequest;
import dev.agentplatform.store.sqlite.SqliteStore;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stopping server ends its running turns as interrupted ("server stopping") while its store is open, and takes no
 * new message; a runtime that never reports the stop does not hold the server's stop up.
 */
class TurnServiceStopTest {

  private static final String USER = "ann";

  @TempDir
  Path dir;

  private SqliteStore store;
  private Workers workers;
  private FakeRuntime runtime;
  private TurnService turns;
  private Agent agent;

  @BeforeEach
  void setUp() {
    store = SqliteStore.open(dir);
    workers = new Workers();
    Instant now = Instant.now();
    agent = new Agent("0123456789abcdef0123456789abcdef", USER, "helper", "Answer briefly.", "", List.of(),
        AgentStatus.IDLE, null, now, now);
    store.createAgent(agent);
    runtime = new FakeRuntime();
    turns = new TurnService();
    turns.agents = new AgentService() {
      @Override
      public Agent require(String userId, String agentId) {
        return store.findAgent(agentId).filter(a -> a.ownerId().equals(userId)).orElseThrow();
      }

      @Override
      public Agent find(String agentId) {
        return store.findAgent(agentId).orElseThrow();
      }

      @Override
      public void saveState(Agent a) {
        store.updateState(a.id(), a.status(), a.cliSessionId(), a.updatedAt());
      }
    };
    turns.conversations = new ConversationService(store, workers);
    turns.runtime = runtime;
    turns.config = new PlatformConfig() {
      @Override
      public int maxMessageChars() {
        return 1000;
      }

      @Override
      public Duration turnTimeout() {
        return Duration.ofMinutes(1);
      }

      @Override
      public Secrets secrets() {
        return Secrets.NONE;
      }
    };
    turns.workers = workers;
    OneServer oneServer = new OneServer();
    turns.leases = new LeaseKeeper(oneServer, oneServer, new Replica("test", "1"), Duration.ofSeconds(15));
    turns.metrics = new PlatformMetrics() {
      @Override
      public void turnStarted() {
      }

      @Override
      public void turnEnded(String outcome, Duration duration) {
      }

      @Override
      public void firstEvent(Duration sinceSend) {
      }

      @Override
      public void usage(Usage usage, double cost) {
      }
    };
    turns.init();
  }

  @AfterEach
  void tearDown() {
    workers.scheduler().shutdownNow();
    workers.pool().shutdownNow();
    store.close();
  }

  @Test
  void theRunningTurnIsStoredAsInterruptedBeforeStopAllReturnsAndNoNewTurnStarts() throws Exception {
    String turnId = turns.send(USER, agent.id(), "hello").turnId();
    assertTrue(runtime.started.await(10, TimeUnit.SECONDS), "the runtime got the turn");

    assertEquals(1, turns.stopAll(Duration.ofSeconds(10)));

    List<ConversationEvent> events = store.events(agent.id(), 0, 100);
    ConversationEvent end = events.get(events.size() - 2);
    assertEquals(turnId, end.turnId());
    assertEquals(new TurnInterrupted("server stopping"), end.payload(), events.toString());
    assertEquals(new AgentStatusChanged(AgentStatus.IDLE, ""), events.get(events.size() - 1).payload());
    assertEquals(1, events.stream().filter(e -> e.payload() instanceof TurnInterrupted).count());
    assertEquals(AgentStatus.IDLE, store.findAgent(agent.id()).orElseThrow().status(), "the record, too");

    PlatformException refused = assertThrows(PlatformException.class, () -> turns.send(USER, agent.id(), "again"));
    assertEquals(ErrorCode.UNAVAILABLE, refused.code());
    assertEquals("the server is stopping", refused.getMessage());
    assertEquals(events, store.events(agent.id(), 0, 100), "nothing was stored for the refused message");
  }

  @Test
  void aRuntimeThatNeverReportsTheStopHasItsTurnEndedAllTheSameAndItsLateEventsDropped() throws Exception {
    runtime.deaf = true;
    String turnId = turns.send(USER, agent.id(), "hello").turnId();
    assertTrue(runtime.started.await(10, TimeUnit.SECONDS));

    long t0 = System.nanoTime();
    assertEquals(1, turns.stopAll(Duration.ofSeconds(2)));
    long tookMillis = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(tookMillis < 2500, "stopAll kept to its time: " + tookMillis + " ms");

    List<ConversationEvent> events = store.events(agent.id(), 0, 100);
    ConversationEvent end = events.get(events.size() - 2);
    assertEquals(turnId, end.turnId());
    assertEquals(new TurnInterrupted("server stopping"), end.payload());

    // What the runtime says after the turn ended is not stored: a turn's end event is its last.
    runtime.listener.onEvent(new RuntimeEvent.TextDelta("msg_late", "too late"));
    runtime.listener.onEvent(new RuntimeEvent.Stopped());
    Thread.sleep(300);
    assertEquals(events, store.events(agent.id(), 0, 100));
  }

  /** What a runtime waits for before the CLI can take the turn (a sandbox pod starting) is the agent's status detail. */
  @Test
  void aRuntimesProgressIsStoredAsARunningStatusWithItsDetail() throws Exception {
    String turnId = turns.send(USER, agent.id(), "hello").turnId();
    assertTrue(runtime.started.await(10, TimeUnit.SECONDS));

    runtime.listener.onEvent(new RuntimeEvent.Preparing("starting a sandbox: waiting for a node"));
    turns.stopAll(Duration.ofSeconds(10));

    List<ConversationEvent> progress = store.events(agent.id(), 0, 100).stream().filter(e -> e.payload().equals(
        new AgentStatusChanged(AgentStatus.RUNNING, "starting a sandbox: waiting for a node"))).toList();
    assertEquals(1, progress.size(), () -> store.events(agent.id(), 0, 100).toString());
    assertEquals(turnId, progress.get(0).turnId());
  }

  /** A runtime whose turn runs until it is stopped, then reports the stop from a thread of its own (or never). */
  private static final class FakeRuntime implements AgentRuntime {
    final CountDownLatch started = new CountDownLatch(1);
    volatile boolean deaf;
    volatile TurnListener listener;

    @Override
    public String name() {
      return "fake";
    }

    @Override
    public RuntimeStatus status() {
      return RuntimeStatus.ok("fake");
    }

    @Override
    public RunningTurn start(TurnRequest request, TurnListener l) {
      listener = l;
      l.onEvent(new RuntimeEvent.TextDelta("msg_1", "thinking "));
      started.countDown();
      return () -> {
        if (!deaf) {
          new Thread(() -> l.onEvent(new RuntimeEvent.Stopped())).start();
        }
      };
    }

    @Override
    public void release(String agentId) {
    }

    @Override
    public void deleteWorkspace(String ownerId, String agentId) {
    }

    @Override
    public int liveAgents() {
      return 0;
    }

    @Override
    public void close() {
    }
  }
}
