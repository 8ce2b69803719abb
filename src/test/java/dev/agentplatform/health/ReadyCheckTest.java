package dev.agentplatform.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.error.StoreException;
import dev.agentplatform.runtime.AgentRuntime;
import dev.agentplatform.runtime.RunningTurn;
import dev.agentplatform.runtime.RuntimeSelection;
import dev.agentplatform.runtime.RuntimeStatus;
import dev.agentplatform.runtime.TurnListener;
import dev.agentplatform.runtime.TurnRequest;
import dev.agentplatform.store.PlatformStore;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Readiness reads what the probes last found and asks nothing itself; the probes ask both on each refresh. */
class ReadyCheckTest {

  /** Outside Liberty no MicroProfile Health implementation is there: a plain builder stands in. */
  @BeforeAll
  static void responses() {
    HealthCheckResponse.setResponseProvider(() -> new HealthCheckResponseBuilder() {
      private String name;
      private boolean up;
      private final Map<String, Object> data = new LinkedHashMap<>();

      @Override
      public HealthCheckResponseBuilder name(String n) {
        name = n;
        return this;
      }

      @Override
      public HealthCheckResponseBuilder withData(String key, String value) {
        data.put(key, value);
        return this;
      }

      @Override
      public HealthCheckResponseBuilder withData(String key, long value) {
        data.put(key, value);
        return this;
      }

      @Override
      public HealthCheckResponseBuilder withData(String key, boolean value) {
        data.put(key, value);
        return this;
      }

      @Override
      public HealthCheckResponseBuilder up() {
        return status(true);
      }

      @Override
      public HealthCheckResponseBuilder down() {
        return status(false);
      }

      @Override
      public HealthCheckResponseBuilder status(boolean u) {
        up = u;
        return this;
      }

      @Override
      public HealthCheckResponse build() {
        return new HealthCheckResponse(name, up ? HealthCheckResponse.Status.UP : HealthCheckResponse.Status.DOWN,
            Optional.of(data));
      }
    });
  }

  /** A store and a runtime that count how often they are asked. */
  private static final class Counted implements PlatformStore, AgentRuntime {
    final AtomicInteger pings = new AtomicInteger();
    final AtomicInteger statuses = new AtomicInteger();
    volatile boolean storeDown;

    @Override
    public String name() {
      return "counted";
    }

    @Override
    public String location() {
      return "memory";
    }

    @Override
    public void ping() {
      pings.incrementAndGet();
      if (storeDown) {
        throw new StoreException("no answer", null);
      }
    }

    @Override
    public RuntimeStatus status() {
      statuses.incrementAndGet();
      return RuntimeStatus.ok("fine");
    }

    @Override
    public RunningTurn start(TurnRequest request, TurnListener listener) {
      throw new UnsupportedOperationException();
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

  @Test
  void readinessAsksNothingAndReportsTheLastProbe() {
    Counted counted = new Counted();
    Probes probes = new Probes();
    probes.store = counted;
    probes.runtime = counted;
    ReadyCheck ready = new ReadyCheck();
    ready.probes = probes;
    ready.runtime = counted;
    ready.selection = new RuntimeSelection("counted", "a test");

    HealthCheckResponse before = ready.call();
    assertEquals(HealthCheckResponse.Status.DOWN, before.getStatus(), "no probe has run yet");
    assertEquals("not checked yet", before.getData().orElseThrow().get("store"));

    probes.refresh();
    for (int i = 0; i < 10; i++) {
      assertEquals(HealthCheckResponse.Status.UP, ready.call().getStatus());
    }
    assertEquals(1, counted.pings.get(), "readiness requests never ping the store");
    assertEquals(1, counted.statuses.get(), "readiness requests never ask the runtime");

    counted.storeDown = true;
    probes.refresh();
    HealthCheckResponse down = ready.call();
    assertEquals(HealthCheckResponse.Status.DOWN, down.getStatus());
    assertTrue(down.getData().orElseThrow().get("store").toString().contains("no answer"));
  }
}
