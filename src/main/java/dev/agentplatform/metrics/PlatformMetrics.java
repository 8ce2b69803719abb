package dev.agentplatform.metrics;

import dev.agentplatform.conversation.EventPayload.Usage;
import dev.agentplatform.error.ErrorCode;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.function.IntSupplier;
import org.eclipse.microprofile.metrics.Metadata;
import org.eclipse.microprofile.metrics.MetricRegistry;
import org.eclipse.microprofile.metrics.Tag;

/**
 * The platform's MicroProfile metrics (under {@code /metrics?scope=application}): open sessions, running turns,
 * turns by outcome, turn duration, time to first event, tokens, cost, agents and errors by type.
 */
@ApplicationScoped
public class PlatformMetrics {

  @Inject
  MetricRegistry registry;

  private final AtomicInteger openSessions = new AtomicInteger();
  private final AtomicInteger runningTurns = new AtomicInteger();
  private final DoubleAdder costUsd = new DoubleAdder();
  private volatile IntSupplier liveAgents = () -> 0;

  @PostConstruct
  void register() {
    registry.gauge(Metadata.builder().withName("sessions.open")
        .withDescription("WebSocket sessions open now").build(), openSessions, AtomicInteger::get);
    registry.gauge(Metadata.builder().withName("turns.running")
        .withDescription("Agent turns running now").build(), runningTurns, AtomicInteger::get);
    registry.gauge(Metadata.builder().withName("cost.usd")
        .withDescription("Model cost of all turns since start, in US dollars").withUnit("usd").build(),
        costUsd, DoubleAdder::sum);
    registry.gauge(Metadata.builder().withName("agents.live")
        .withDescription("Agents whose runtime holds a live process now").build(), this, m -> m.liveAgents.getAsInt());
  }

  public void liveAgents(IntSupplier supplier) {
    this.liveAgents = supplier;
  }

  public void sessionOpened() {
    openSessions.incrementAndGet();
  }

  public void sessionClosed() {
    openSessions.decrementAndGet();
  }

  public void turnStarted() {
    runningTurns.incrementAndGet();
  }

  /** Records a finished turn: its outcome ({@code completed}, {@code failed}, {@code interrupted}) and duration. */
  public void turnEnded(String outcome, Duration duration) {
    runningTurns.decrementAndGet();
    registry.counter("turns", new Tag("outcome", outcome)).inc();
    registry.timer("turn.duration").update(duration);
  }

  public void firstEvent(Duration sinceSend) {
    registry.timer("turn.first_event").update(sinceSend);
  }

  public void usage(Usage usage, double cost) {
    registry.counter("tokens", new Tag("kind", "input")).inc(usage.inputTokens());
    registry.counter("tokens", new Tag("kind", "output")).inc(usage.outputTokens());
    registry.counter("tokens", new Tag("kind", "cache_read")).inc(usage.cacheReadInputTokens());
    registry.counter("tokens", new Tag("kind", "cache_creation")).inc(usage.cacheCreationInputTokens());
    costUsd.add(cost);
  }

  public void agentCreated() {
    registry.counter("agents.created").inc();
  }

  public void agentDeleted() {
    registry.counter("agents.deleted").inc();
  }

  public void error(ErrorCode code) {
    registry.counter("errors", new Tag("type", code.wire())).inc();
  }
}
