package dev.agentplatform.turn;

import dev.agentplatform.agent.Agent;
import dev.agentplatform.agent.AgentDeleting;
import dev.agentplatform.agent.AgentService;
import dev.agentplatform.agent.AgentStatus;
import dev.agentplatform.concurrent.Workers;
import dev.agentplatform.config.PlatformConfig;
import dev.agentplatform.config.Secrets;
import dev.agentplatform.conversation.ConversationEvent;
import dev.agentplatform.conversation.ConversationService;
import dev.agentplatform.conversation.EventPayload;
import dev.agentplatform.conversation.EventPayload.AgentStatusChanged;
import dev.agentplatform.conversation.EventPayload.AssistantText;
import dev.agentplatform.conversation.EventPayload.ToolCall;
import dev.agentplatform.conversation.EventPayload.ToolResult;
import dev.agentplatform.conversation.EventPayload.TurnCompleted;
import dev.agentplatform.conversation.EventPayload.TurnFailed;
import dev.agentplatform.conversation.EventPayload.TurnInterrupted;
import dev.agentplatform.conversation.EventPayload.UserMessage;
import dev.agentplatform.error.ErrorCode;
import dev.agentplatform.error.PlatformException;
import dev.agentplatform.metrics.PlatformMetrics;
import dev.agentplatform.runtime.AgentRuntime;
import dev.agentplatform.runtime.RunningTurn;
import dev.agentplatform.runtime.RuntimeEvent;
import dev.agentplatform.runtime.RuntimeStatus;
import dev.agentplatform.runtime.TurnRequest;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Runs turns: takes a user's message, records it, hands it to the runtime, and turns what the runtime reports
 * into conversation events, until the turn completes, fails, is interrupted or times out.
 *
 * <p>Busy rule: an agent runs one turn at a time; a message sent while a turn runs is refused with {@code busy}
 * (nothing is stored), and the client may interrupt or wait for the turn's end.
 */
@ApplicationScoped
public class TurnService {

  private static final Logger LOG = Logger.getLogger(TurnService.class.getName());
  /** Longest text kept in one stored event; longer tool output is cut (Firestore documents hold 1 MiB). */
  static final int MAX_STORED_TEXT = 256 * 1024;
  private static final long STORE_WAIT_SECONDS = 30;

  @Inject
  AgentService agents;

  @Inject
  ConversationService conversations;

  @Inject
  AgentRuntime runtime;

  @Inject
  PlatformConfig config;

  @Inject
  Workers workers;

  @Inject
  PlatformMetrics metrics;

  private final ConcurrentHashMap<String, ActiveTurn> active = new ConcurrentHashMap<>();
  private AgentRecords records;
  private Secrets secrets = Secrets.NONE;

  @jakarta.annotation.PostConstruct
  void init() {
    records = new AgentRecords(agents, workers.pool());
    secrets = config.secrets();
  }

  /** What {@link #send} answers: the new turn's id and the stored user message. */
  public record Started(String turnId, ConversationEvent userMessage) {
  }

  public Started send(String userId, String agentId, String text) {
    Agent agent = agents.require(userId, agentId);
    if (text == null || text.isBlank()) {
      throw PlatformException.badRequest("text: required, a non-blank message");
    }
    if (text.length() > config.maxMessageChars()) {
      throw PlatformException.badRequest("text: at most " + config.maxMessageChars() + " characters (MAX_MESSAGE_CHARS)");
    }
    RuntimeStatus status = runtime.status();
    if (!status.available()) {
      throw PlatformException.unavailable(status.reason(), null);
    }
    ActiveTurn turn = new ActiveTurn(agentId, "turn_" + UUID.randomUUID().toString().replace("-", ""), System.nanoTime());
    turn.sessionId = agent.cliSessionId();
    if (active.putIfAbsent(agentId, turn) != null) {
      throw new PlatformException(ErrorCode.BUSY,
          "agent " + agentId + " is running a turn: wait for it to end, or interrupt it");
    }
    CompletableFuture<ConversationEvent> userEvent;
    try {
      if (agent.status() == AgentStatus.RUNNING) {
        // Stored as running but no turn runs here: the server stopped during that turn.
        await(append(turn, new TurnFailed("the server stopped while this agent's previous turn was running")));
      }
      // Queued, not awaited: the CLI takes the message while it is being stored. What the turn produces queues
      // behind it in the agent's single-writer log, so it is stored after it and reaches no client before it is.
      userEvent = append(turn, new UserMessage(text));
    } catch (RuntimeException e) {
      active.remove(agentId, turn);
      throw e;
    }
    metrics.turnStarted();
    setStatus(turn, AgentStatus.RUNNING, "");
    try {
      RunningTurn running = runtime.start(
          new TurnRequest(agent.ownerId(), agentId, turn.turnId, text, agent.settings(), agent.cliSessionId()),
          event -> onRuntimeEvent(turn, event));
      turn.attach(running);
    } catch (PlatformException e) {
      finish(turn, new TurnFailed(e.getMessage()), AgentStatus.ERROR, "failed");
      throw e;
    } catch (RuntimeException e) {
      finish(turn, new TurnFailed("the runtime could not start the turn: " + e.getMessage()), AgentStatus.ERROR, "failed");
      throw e;
    }
    Duration timeout = config.turnTimeout();
    turn.timeout = workers.scheduler().schedule(() -> turn.stop(StopReason.TIMEOUT), timeout.toMillis(),
        TimeUnit.MILLISECONDS);
    try {
      return new Started(turn.turnId, await(userEvent));
    } catch (PlatformException e) {
      // The message is not durable: the turn stops (a failed write already stopped it) and the client hears why.
      turn.stop(StopReason.STORE);
      throw e;
    }
  }

  /** Stops the agent's running turn; false when none runs. */
  public boolean interrupt(String userId, String agentId) {
    agents.require(userId, agentId);
    ActiveTurn turn = active.get(agentId);
    if (turn == null) {
      return false;
    }
    turn.stop(StopReason.USER);
    return true;
  }

  /** The agent as clients should see it: a stored "running" without a running turn is a turn lost to a restart. */
  public Agent effective(Agent agent) {
    if (agent.status() == AgentStatus.RUNNING && !active.containsKey(agent.id())) {
      return agent.withStatus(AgentStatus.ERROR, agent.updatedAt());
    }
    return agent;
  }

  public boolean isRunning(String agentId) {
    return active.containsKey(agentId);
  }

  void onAgentDeleting(@Observes AgentDeleting deleting) {
    ActiveTurn turn = active.remove(deleting.agentId());
    if (turn != null) {
      turn.stop(StopReason.DELETED);
    }
    runtime.deleteWorkspace(deleting.ownerId(), deleting.agentId());
    conversations.forget(deleting.agentId());
    records.forget(deleting.agentId());
  }

  private void onRuntimeEvent(ActiveTurn turn, RuntimeEvent event) {
    try {
      if (event instanceof RuntimeEvent.SessionStarted s) {
        rememberSession(turn, s.sessionId());
      } else if (event instanceof RuntimeEvent.TextDelta t) {
        turn.firstOutput(metrics);
        append(turn, new AssistantText(t.messageId(), redact(t.text())));
      } else if (event instanceof RuntimeEvent.ToolUse u) {
        turn.firstOutput(metrics);
        append(turn, new ToolCall(u.toolUseId(), u.name(), u.input()));
      } else if (event instanceof RuntimeEvent.ToolOutput o) {
        append(turn, new ToolResult(o.toolUseId(), cut(redact(o.output())), o.isError()));
      } else if (event instanceof RuntimeEvent.Retrying r) {
        // Still running, but the user should know why nothing arrives: the CLI waits between attempts.
        append(turn, new AgentStatusChanged(AgentStatus.RUNNING, "the model API is not answering (" + r.error()
            + "); retry " + r.attempt() + " of " + r.maxRetries()));
      } else if (event instanceof RuntimeEvent.Completed c) {
        if (c.sessionId() != null) {
          rememberSession(turn, c.sessionId());
        }
        metrics.usage(c.usage(), c.costUsd());
        finish(turn, new TurnCompleted(cut(c.result()), c.usage(), c.costUsd(), c.durationMs(), c.numTurns()),
            AgentStatus.IDLE, "completed");
      } else if (event instanceof RuntimeEvent.Failed f) {
        finish(turn, new TurnFailed(redact(f.reason())), AgentStatus.ERROR, "failed");
      } else if (event instanceof RuntimeEvent.Stopped) {
        StopReason why = turn.stopReason;
        if (why == StopReason.TIMEOUT) {
          finish(turn, new TurnFailed("the turn timed out after " + config.turnTimeout().toSeconds()
              + " s (TURN_TIMEOUT_SECONDS)"), AgentStatus.ERROR, "failed");
        } else if (why == StopReason.STORE) {
          finish(turn, new TurnFailed("the conversation store failed during the turn"), AgentStatus.ERROR, "failed");
        } else if (why == StopReason.DELETED) {
          metrics.turnEnded("interrupted", turn.elapsed());
        } else {
          finish(turn, new TurnInterrupted("interrupted by the user"), AgentStatus.IDLE, "interrupted");
        }
      }
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "handling a runtime event of turn " + turn.turnId + " failed", e);
    }
  }

  private void finish(ActiveTurn turn, EventPayload last, AgentStatus status, String outcome) {
    if (turn.timeout != null) {
      turn.timeout.cancel(false);
    }
    append(turn, last);
    String detail = last instanceof TurnFailed f ? f.reason() : "";
    setStatus(turn, status, detail);
    active.remove(turn.agentId, turn);
    metrics.turnEnded(outcome, turn.elapsed());
  }

  private void setStatus(ActiveTurn turn, AgentStatus status, String detail) {
    append(turn, new AgentStatusChanged(status, detail));
    records.update(turn.agentId, a -> a.status() == status ? a : a.withStatus(status, java.time.Instant.now()));
  }

  /** Stores a new CLI session id with the agent (for --resume); the session id normally stays the same. */
  private void rememberSession(ActiveTurn turn, String sessionId) {
    if (sessionId == null || sessionId.equals(turn.sessionId)) {
      return;
    }
    turn.sessionId = sessionId;
    records.update(turn.agentId,
        a -> sessionId.equals(a.cliSessionId()) ? a : a.withCliSessionId(sessionId, java.time.Instant.now()));
  }

  private CompletableFuture<ConversationEvent> append(ActiveTurn turn, EventPayload payload) {
    CompletableFuture<ConversationEvent> f = conversations.append(turn.agentId, turn.turnId, payload,
        "simulated".equals(runtime.name()));
    f.whenComplete((event, error) -> {
      if (error != null) {
        LOG.log(Level.WARNING, "storing an event of turn " + turn.turnId + " failed; stopping the turn", error);
        turn.stop(StopReason.STORE);
      }
    });
    return f;
  }

  private static ConversationEvent await(CompletableFuture<ConversationEvent> f) {
    try {
      return f.get(STORE_WAIT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof PlatformException p) {
        throw p;
      }
      throw PlatformException.unavailable("the conversation store failed: " + e.getCause().getMessage(), e.getCause());
    } catch (TimeoutException e) {
      throw PlatformException.unavailable("the conversation store did not answer within " + STORE_WAIT_SECONDS + " s", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw PlatformException.unavailable("interrupted while storing the message", e);
    }
  }

  /**
   * Blots the configured secrets out of what is stored: the agent's tools can read their own environment (a
   * Bash {@code env}), and no key or token may reach the conversation history. A secret split across two text
   * deltas is not caught; tool output, where it would show, arrives whole.
   */
  private String redact(String text) {
    return secrets.redact(text);
  }

  private static String cut(String text) {
    if (text == null) {
      return "";
    }
    return text.length() <= MAX_STORED_TEXT ? text
        : text.substring(0, MAX_STORED_TEXT) + "\n[... " + (text.length() - MAX_STORED_TEXT) + " more characters not kept]";
  }

  /** Why a turn was stopped. */
  enum StopReason { USER, TIMEOUT, STORE, DELETED }

  /** A turn this server is running. */
  private static final class ActiveTurn {
    final String agentId;
    final String turnId;
    final long startedNanos;
    volatile RunningTurn running;
    volatile StopReason stopReason;
    volatile ScheduledFuture<?> timeout;
    volatile String sessionId;
    private volatile boolean sawOutput;

    ActiveTurn(String agentId, String turnId, long startedNanos) {
      this.agentId = agentId;
      this.turnId = turnId;
      this.startedNanos = startedNanos;
    }

    void attach(RunningTurn r) {
      running = r;
      if (stopReason != null) {
        r.stop();
      }
    }

    void stop(StopReason reason) {
      if (stopReason == null) {
        stopReason = reason;
      }
      RunningTurn r = running;
      if (r != null) {
        r.stop();
      }
    }

    void firstOutput(PlatformMetrics metrics) {
      if (!sawOutput) {
        sawOutput = true;
        metrics.firstEvent(elapsed());
      }
    }

    Duration elapsed() {
      return Duration.ofNanos(System.nanoTime() - startedNanos);
    }
  }
}
