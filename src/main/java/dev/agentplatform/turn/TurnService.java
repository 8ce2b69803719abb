package dev.agentplatform.turn;

import dev.agentplatform.agent.Agent;
import dev.agentplatform.agent.AgentDeleted;
import dev.agentplatform.agent.AgentDeleting;
import dev.agentplatform.agent.AgentService;
import dev.agentplatform.agent.AgentStatus;
import dev.agentplatform.concurrent.Workers;
import dev.agentplatform.config.PlatformConfig;
import dev.agentplatform.conversation.ConversationEvent;
import dev.agentplatform.conversation.ConversationService;
import dev.agentplatform.conversation.EventPayload;
import dev.agentplatform.conversation.Fence;
import dev.agentplatform.conversation.EventPayload.TurnCompleted;
import dev.agentplatform.conversation.EventPayload.TurnFailed;
import dev.agentplatform.conversation.EventPayload.TurnInterrupted;
import dev.agentplatform.conversation.EventPayload.UserMessage;
import dev.agentplatform.conversation.StoredText;
import dev.agentplatform.error.ErrorCode;
import dev.agentplatform.error.PlatformException;
import dev.agentplatform.metrics.PlatformMetrics;
import dev.agentplatform.replica.Command;
import dev.agentplatform.replica.LeaseKeeper;
import dev.agentplatform.runtime.AgentRuntime;
import dev.agentplatform.runtime.RunningTurn;
import dev.agentplatform.runtime.RuntimeEvent;
import dev.agentplatform.runtime.RuntimeStatus;
import dev.agentplatform.runtime.TurnRequest;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Runs turns: takes a user's message, records it, hands it to the runtime, and turns what the runtime reports
 * into conversation events, until the turn completes, fails, is interrupted or times out.
 *
 * <p>Busy rule: an agent runs one turn at a time; a message sent while a turn runs is refused with {@code busy}
 * (nothing is stored), and the client may interrupt or wait for the turn's end. The agent is free again before
 * the turn's end event is stored, so a client that sends on seeing that event is never refused.
 *
 * <p>Every turn ends with exactly one end event ({@code turn_completed}, {@code turn_failed} or
 * {@code turn_interrupted}); a turn left open by a server that stopped is taken up or closed by {@link #recoverLeftOpen}, and a
 * server that is told to stop ends its running turns itself first ({@link #stopAll}).
 */
@ApplicationScoped
public class TurnService {

  private static final Logger LOG = Logger.getLogger(TurnService.class.getName());
  private static final long STORE_WAIT_SECONDS = 30;
  /** The reason a turn gets when the server that ran it stopped before it ended. */
  public static final String SERVER_STOPPED = "the server stopped during this turn";
  /** The reason a turn gets when the server is told to stop (SIGTERM) while the turn runs. */
  public static final String SERVER_STOPPING = "server stopping";
  /** The reason of a turn whose server lost the agent's lease to another replica (paused, or cut off). */
  static final String LEASE_LOST = "this server lost the agent to another server during the turn";
  /** What a message gets while the server stops. */
  static final String STOPPING = "the server is stopping";
  /** The turn id of {@link #recoverLeftOpen}'s place holder in {@link #active}: no turn of the runtime's. */
  private static final String RECOVERY = "recovery";
  /** How many stored events one read looks at while searching an agent's last turn from the end. */
  private static final int TAIL_PAGE = 200;

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

  @Inject
  LeaseKeeper leases;

  private final ConcurrentHashMap<String, ActiveTurn> active = new ConcurrentHashMap<>();
  /** The status each agent's last turn here ended with, while its stored record may still say running. */
  private final ConcurrentHashMap<String, AgentStatus> settled = new ConcurrentHashMap<>();
  /** Each agent's latest CLI session id, known here before its stored record catches up (for --resume). */
  private final ConcurrentHashMap<String, String> cliSessions = new ConcurrentHashMap<>();
  private AgentRecords records;
  private StoredPayloads payloads = new StoredPayloads(dev.agentplatform.config.Secrets.NONE);
  /** Set once the server stops: no new turn starts after it. */
  private volatile boolean stopping;

  @jakarta.annotation.PostConstruct
  void init() {
    records = new AgentRecords(agents, workers.pool());
    payloads = new StoredPayloads(config.secrets());
    leases.onLost(agentId -> {
      ActiveTurn turn = active.get(agentId);
      if (turn != null) {
        turn.stop(StopReason.LEASE);
      }
    });
    leases.onCommand(this::carryOut);
  }

  /** A command another replica handed this one, which holds the agent's lease. */
  private void carryOut(Command command) {
    ActiveTurn turn = active.get(command.agentId());
    if (turn == null) {
      return;
    }
    if (command.kind() == Command.Kind.DELETED) {
      active.remove(command.agentId(), turn);
      turn.stop(StopReason.DELETED);
    } else {
      turn.stop(StopReason.USER);
    }
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
      throw PlatformException.badRequest("text: at most " + config.maxMessageChars()
          + " characters (MAX_MESSAGE_CHARS)");
    }
    if (stopping) {
      throw PlatformException.unavailable(STOPPING, null);
    }
    RuntimeStatus status = runtime.status();
    if (!status.available()) {
      throw PlatformException.unavailable(status.reason(), null);
    }
    String turnId = "turn_" + UUID.randomUUID().toString().replace("-", "");
    ActiveTurn turn = new ActiveTurn(agentId, turnId, System.nanoTime());
    turn.text = payloads.heldText();
    String resume = cliSessions.getOrDefault(agentId, agent.cliSessionId());
    // Reassigned when the agent's lease comes from another server: that one may have moved its session on.
    turn.sessionId = resume;
    if (!claim(turn)) {
      throw new PlatformException(ErrorCode.BUSY,
          "agent " + agentId + " is running a turn: wait for it to end, or interrupt it");
    }
    if (stopping) {
      // The stop began between the check above and the claim, and may not have seen this turn: it never starts.
      active.remove(agentId, turn);
      throw PlatformException.unavailable(STOPPING, null);
    }
    CompletableFuture<ConversationEvent> userEvent;
    try {
      LeaseKeeper.Held held = takeLease(agentId).orElseThrow(() -> new PlatformException(ErrorCode.BUSY, "agent "
          + agentId + " is running a turn on another server: wait for it to end, or interrupt it"));
      turn.leaseUse = held.use();
      if (held.changedHands()) {
        agent = agents.require(userId, agentId);
        resume = agent.cliSessionId();
        turn.sessionId = resume;
      }
      if (agent.status() == AgentStatus.RUNNING && !settled.containsKey(agentId)) {
        // Stored as running, yet no turn of it ran on this server: one that stopped left it so, and start-up
        // could not close that turn (its store did not answer), or this server took the agent over since.
        closeOpen(agent);
      }
      // Queued, not awaited: the CLI takes the message while it is being stored. What the turn produces queues
      // behind it in the agent's single-writer log, so it is stored after it and reaches no client before it is.
      userEvent = append(turn, payloads.userMessage(text));
    } catch (RuntimeException e) {
      active.remove(agentId, turn);
      releaseLease(agentId, turn.leaseUse);
      throw e;
    }
    metrics.turnStarted();
    setStatus(turn, AgentStatus.RUNNING, "");
    TurnRequest request = new TurnRequest(agent.ownerId(), agentId, turn.turnId, text, agent.settings(),
        turn.sessionId);
    // On a worker: starting a CLI may make a container or a process, and the caller (a WebSocket thread, a REST
    // request) never waits for a runtime. A start that fails ends the turn with turn_failed, as any failure does.
    try {
      workers.pool().execute(() -> startRuntime(turn, request));
    } catch (RejectedExecutionException e) {
      finish(turn, payloads.failed(STOPPING), AgentStatus.ERROR, "failed");
      throw PlatformException.unavailable(STOPPING, e);
    }
    startTimer(turn);
    try {
      return new Started(turn.turnId, await(userEvent));
    } catch (PlatformException e) {
      // The message is not durable: the turn stops (a failed write already stopped it) and the client hears why.
      turn.stop(StopReason.STORE);
      throw e;
    }
  }

  private void startRuntime(ActiveTurn turn, TurnRequest request) {
    try {
      turn.attach(runtime.start(request, event -> onRuntimeEvent(turn, event)));
    } catch (PlatformException e) {
      finish(turn, payloads.failed(e.getMessage()), AgentStatus.ERROR, "failed");
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "the runtime could not start turn " + turn.turnId, e);
      finish(turn, payloads.failed("the runtime could not start the turn: " + e.getMessage()), AgentStatus.ERROR,
          "failed");
    }
  }

  /** Stops the agent's running turn; false when none runs. */
  public boolean interrupt(String userId, String agentId) {
    agents.require(userId, agentId);
    ActiveTurn turn = active.get(agentId);
    if (turn == null) {
      // The turn may run on another replica: the one that holds the agent's lease carries the interrupt out.
      Optional<String> holder = leases.holderElsewhere(agentId);
      holder.ifPresent(owner -> leases.hand(owner, new Command(agentId, Command.Kind.INTERRUPT)));
      return holder.isPresent();
    }
    turn.stop(StopReason.USER);
    return true;
  }

  /**
   * Takes the agent's lease for a turn here (empty while another live replica holds it) and writes its events under
   * it; when another server held it last, what this one remembers of the agent (its last status and session, its
   * warm CLI, its log's seq) is dropped, so that the turn goes on from what that server stored.
   */
  private Optional<LeaseKeeper.Held> takeLease(String agentId) {
    Optional<LeaseKeeper.Held> held = leases.take(agentId);
    held.ifPresent(h -> {
      if (h.changedHands()) {
        settled.remove(agentId);
        cliSessions.remove(agentId);
        runtime.release(agentId);
      }
      if (leases.shared()) {
        conversations.fence(agentId, new Fence(h.owner(), h.epoch()), h.changedHands());
      }
    });
    return held;
  }

  /**
   * Lets the lease of a turn that ended here go once its events and its agent's record are stored, unless a later
   * turn here uses it by then.
   */
  private void releaseLease(String agentId, long use) {
    if (use == 0) {
      return;
    }
    workers.pool().execute(() -> {
      if (conversations.awaitWritten(agentId, Duration.ofSeconds(STORE_WAIT_SECONDS))
          && records.awaitWritten(System.nanoTime() + TimeUnit.SECONDS.toNanos(STORE_WAIT_SECONDS))) {
        leases.release(agentId, use);
      }
    });
  }

  /**
   * The agent as clients should see it: a stored "running" without a turn running here is either a record not yet
   * brought up to date with the turn that just ended here, or a turn lost to a stopped server.
   */
  public Agent effective(Agent agent) {
    if (agent.status() == AgentStatus.RUNNING && !active.containsKey(agent.id())) {
      if (!settled.containsKey(agent.id()) && leases.holderElsewhere(agent.id()).isPresent()) {
        return agent; // its turn runs on another replica
      }
      return agent.withStatus(settled.getOrDefault(agent.id(), AgentStatus.ERROR), agent.updatedAt());
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
    } else {
      try {
        leases.holderElsewhere(deleting.agentId()).ifPresent(owner -> leases.hand(owner, new Command(deleting
            .agentId(), Command.Kind.DELETED)));
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "could not tell the server that runs agent " + deleting.agentId() + " of its deletion",
            e);
      }
    }
    // In the background: removing a workspace may take a container exec, and the caller waits for no runtime.
    workers.pool().execute(() -> {
      try {
        runtime.deleteWorkspace(deleting.ownerId(), deleting.agentId());
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "could not delete the workspace of agent " + deleting.agentId(), e);
      }
    });
    records.forget(deleting.agentId());
    settled.remove(deleting.agentId());
    cliSessions.remove(deleting.agentId());
  }

  void onAgentDeleted(@Observes AgentDeleted deleted) {
    if (deleted.deleted()) {
      try {
        leases.forget(deleted.agentId());
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "could not remove the lease of deleted agent " + deleted.agentId(), e);
      }
    }
  }

  /**
   * What start-up did with the turn a stopped server left open on an agent.
   *
   * @param resumed true when the turn goes on here (its runtime still ran it), false when it was closed as failed
   */
  public record Recovery(String turnId, boolean resumed) {
  }

  /**
   * Takes up or closes the turn a stopped server left open on this agent: called at start-up, before anything new
   * can run, for each agent stored as running. Where the runtime still runs that turn (a sandbox pod's runner
   * outlives the server), the turn goes on here: its output is read again from its start, what the store already
   * holds of it is left out ({@link StoredPrefix}), and the rest is stored as it comes, so that it has no gap and no
   * duplicate. Otherwise it is closed with one {@code turn_failed} of that turn ({@link #SERVER_STOPPED}), and the
   * stored status is brought back from {@code running}. Does nothing while a turn of the agent runs here, or while
   * another live replica holds the agent's lease.
   */
  public Optional<Recovery> recoverLeftOpen(Agent agent) {
    ActiveTurn guard = new ActiveTurn(agent.id(), RECOVERY, System.nanoTime());
    if (!claim(guard)) {
      return Optional.empty();
    }
    long use = 0;
    try {
      Optional<LeaseKeeper.Held> held = takeLease(agent.id());
      if (held.isEmpty()) {
        return Optional.empty(); // another live replica runs it
      }
      use = held.get().use();
      LastTurn last = lastTurn(agent.id());
      guard.leaseUse = use;
      if (last != null && last.end == null && resume(agent, last, guard)) {
        use = 0; // held by the turn taken up, let go when it ends
        return Optional.of(new Recovery(last.turnId, true));
      }
      return closeOpen(agent, last).map(id -> new Recovery(id, false));
    } finally {
      active.remove(agent.id(), guard);
      releaseLease(agent.id(), use);
    }
  }

  /** Stops the turn when it runs longer than TURN_TIMEOUT_SECONDS. */
  private void startTimer(ActiveTurn turn) {
    turn.setTimeout(workers.scheduler().schedule(() -> turn.stop(StopReason.TIMEOUT), config.turnTimeout().toMillis(),
        TimeUnit.MILLISECONDS));
  }

  /** Asks the runtime to take up the open turn {@code last}; true when it goes on, in place of {@code guard}. */
  private boolean resume(Agent agent, LastTurn last, ActiveTurn guard) {
    ActiveTurn turn = new ActiveTurn(agent.id(), last.turnId, System.nanoTime());
    turn.leaseUse = guard.leaseUse;
    turn.text = payloads.heldText();
    turn.sessionId = agent.cliSessionId();
    turn.replay = new StoredPrefix(last.stored);
    if (!active.replace(agent.id(), guard, turn)) {
      return false;
    }
    Optional<RunningTurn> running = Optional.empty();
    try {
      running = runtime.reattach(new TurnRequest(agent.ownerId(), agent.id(), last.turnId, null, agent.settings(),
          agent.cliSessionId()), event -> onRuntimeEvent(turn, event));
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "the runtime could not take up turn " + last.turnId + " of agent " + agent.id(), e);
    }
    if (running.isEmpty()) {
      active.replace(agent.id(), turn, guard);
      return false;
    }
    metrics.turnStarted();
    turn.attach(running.get());
    startTimer(turn);
    return true;
  }

  /**
   * Stops taking turns, stops each running one and records it as interrupted ({@link #SERVER_STOPPING}), and waits,
   * at most {@code wait} in all, until their end events and their agents' records are stored: called once, when the
   * server is told to stop, while the store is still open. A turn whose runtime has not reported its stop by half of
   * {@code wait} is ended here all the same (what the runtime reports later is dropped).
   *
   * @return how many turns it ended
   */
  public int stopAll(Duration wait) {
    stopping = true;
    long deadline = System.nanoTime() + wait.toNanos();
    List<ActiveTurn> running = active.values().stream().filter(t -> !RECOVERY.equals(t.turnId)).toList();
    running.forEach(t -> t.stop(StopReason.SHUTDOWN));
    long forceAt = deadline - wait.toNanos() / 2;
    for (ActiveTurn t : running) {
      if (!awaitUntil(t.finished, forceAt)) {
        LOG.warning("the runtime did not report the stop of turn " + t.turnId + " in time; ending it as interrupted");
        finish(t, payloads.interrupted(SERVER_STOPPING), AgentStatus.IDLE, "interrupted");
      }
    }
    for (ActiveTurn t : running) {
      if (!conversations.awaitWritten(t.agentId, Duration.ofNanos(Math.max(0, deadline - System.nanoTime())))) {
        LOG.warning("the end of turn " + t.turnId + " was not stored before the server stopped; its agent's next"
            + " start closes it");
      }
    }
    if (!records.awaitWritten(deadline)) {
      LOG.warning("some agents' records were not stored before the server stopped; the next start corrects them");
    }
    // Recorded: another replica may serve these agents at once rather than after their leases expire.
    leases.releaseAll();
    return running.size();
  }

  private static boolean awaitUntil(CompletableFuture<Void> f, long deadlineNanos) {
    try {
      f.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
      return true;
    } catch (TimeoutException | ExecutionException e) {
      return f.isDone();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return f.isDone();
    }
  }

  /** Closes the agent's open turn as failed, for a caller that holds the agent's place in {@link #active}. */
  private Optional<String> closeOpen(Agent agent) {
    return closeOpen(agent, lastTurn(agent.id()));
  }

  private Optional<String> closeOpen(Agent agent, LastTurn last) {
    AgentStatus status;
    if (last != null && last.end == null) {
      ActiveTurn open = new ActiveTurn(agent.id(), last.turnId, System.nanoTime());
      TurnFailed failed = payloads.failed(SERVER_STOPPED);
      await(append(open, failed));
      await(append(open, payloads.status(AgentStatus.ERROR, failed.reason())));
      status = AgentStatus.ERROR;
    } else {
      status = last != null && last.end instanceof TurnFailed ? AgentStatus.ERROR : AgentStatus.IDLE;
    }
    if (agent.status() != status) {
      agents.saveState(agent.withStatus(status, Instant.now()));
    }
    return last != null && last.end == null ? Optional.of(last.turnId) : Optional.empty();
  }

  /**
   * The agent's latest turn as stored: its id, its end event (null while open) and what was stored of it after its
   * user message; null if it has none.
   */
  private LastTurn lastTurn(String agentId) {
    long upTo = conversations.lastSeq(agentId);
    EventPayload end = null;
    List<EventPayload> stored = new ArrayList<>();
    while (upTo > 0) {
      long after = Math.max(0, upTo - TAIL_PAGE);
      List<ConversationEvent> page = conversations.history(agentId, after, (int) (upTo - after));
      for (int i = page.size() - 1; i >= 0; i--) {
        ConversationEvent e = page.get(i);
        EventPayload p = e.payload();
        if (end == null && (p instanceof TurnCompleted || p instanceof TurnFailed || p instanceof TurnInterrupted)) {
          end = p;
        } else if (p instanceof UserMessage) {
          java.util.Collections.reverse(stored);
          return new LastTurn(e.turnId(), end, stored);
        } else if (end == null) {
          stored.add(p);
        }
      }
      upTo = after;
    }
    return end == null ? null : new LastTurn("", end, List.of());
  }

  /**
   * An agent's latest stored turn.
   *
   * @param stored what was stored of it after its user message, in order (while it is open)
   */
  private record LastTurn(String turnId, EventPayload end, List<EventPayload> stored) {
  }

  private void onRuntimeEvent(ActiveTurn turn, RuntimeEvent event) {
    try {
      if (turn.hasEnded() && turn.stopReason != StopReason.DELETED) {
        // Ended without waiting for its runtime (a stopping server does that to a runtime that is slow to report):
        // nothing may be stored after a turn's end event.
        return;
      }
      if (turn.stopReason == StopReason.DELETED) {
        // The agent and its history are gone: nothing more of the turn is stored.
        if (event.isFinal() && turn.end()) {
          metrics.turnEnded("interrupted", turn.elapsed());
        }
        return;
      }
      if (event instanceof RuntimeEvent.SessionStarted) {
        // Not kept for --resume yet: a CLI stopped early in its first turn may not have saved the session, and
        // resuming it would fail ("No conversation found"); the turn's result names the session once it is saved.
        return;
      }
      if (event instanceof RuntimeEvent.TextDelta t) {
        turn.firstOutput(metrics);
        turn.text.accept(t.messageId(), t.text()).forEach(text -> append(turn, text));
        return;
      }
      // Text held back as the possible start of a secret goes first: whatever comes next ends that text.
      turn.text.flush().ifPresent(text -> append(turn, text));
      if (event instanceof RuntimeEvent.ToolUse u) {
        turn.firstOutput(metrics);
        append(turn, payloads.toolCall(u));
      } else if (event instanceof RuntimeEvent.ToolOutput o) {
        append(turn, payloads.toolResult(o));
      } else if (event instanceof RuntimeEvent.Preparing p) {
        // Still running, but nothing can arrive before the runtime has made the agent's sandbox: say what it waits for.
        append(turn, payloads.status(AgentStatus.RUNNING, p.detail()));
      } else if (event instanceof RuntimeEvent.Retrying r) {
        // Still running, but the user should know why nothing arrives: the CLI waits between attempts.
        append(turn, payloads.retrying(r));
      } else if (event instanceof RuntimeEvent.Completed c) {
        if (c.sessionId() != null) {
          rememberSession(turn, c.sessionId());
        }
        metrics.usage(c.usage(), c.costUsd());
        finish(turn, payloads.completed(c), AgentStatus.IDLE, "completed");
      } else if (event instanceof RuntimeEvent.Failed f) {
        finish(turn, payloads.failed(f.reason()), AgentStatus.ERROR, "failed");
      } else if (event instanceof RuntimeEvent.Stopped) {
        StopReason why = turn.stopReason;
        if (why == StopReason.TIMEOUT) {
          finish(turn, payloads.failed("the turn timed out after " + config.turnTimeout().toSeconds()
              + " s (TURN_TIMEOUT_SECONDS)"), AgentStatus.ERROR, "failed");
        } else if (why == StopReason.STORE) {
          finish(turn, payloads.failed("the conversation store failed during the turn"), AgentStatus.ERROR, "failed");
        } else if (why == StopReason.LEASE) {
          finish(turn, payloads.failed(LEASE_LOST), AgentStatus.ERROR, "failed");
        } else if (why == StopReason.SHUTDOWN) {
          finish(turn, payloads.interrupted(SERVER_STOPPING), AgentStatus.IDLE, "interrupted");
        } else {
          finish(turn, payloads.interrupted("interrupted by the user"), AgentStatus.IDLE, "interrupted");
        }
      }
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "handling a runtime event of turn " + turn.turnId + " failed", e);
    }
  }

  /**
   * Makes the turn the agent's active one unless another is; false then. {@code compute}, not {@code putIfAbsent}:
   * it waits for a {@link #finish} of the agent's last turn that is in progress on the same key, where
   * {@code putIfAbsent} may answer from the map without that lock and see the ending turn.
   */
  private boolean claim(ActiveTurn turn) {
    return active.compute(turn.agentId, (id, current) -> current == null ? turn : current) == turn;
  }

  /**
   * Ends a turn once: frees the agent and queues the end event and the new status in one step, so that no message
   * can be taken before the agent is free (a client may send as soon as it sees the end event) and none can be
   * queued between the removal and the end event (the map holds the agent's key while the step runs).
   */
  private void finish(ActiveTurn turn, EventPayload last, AgentStatus status, String outcome) {
    if (!turn.end()) {
      return;
    }
    String detail = last instanceof TurnFailed f ? f.reason() : "";
    settled.put(turn.agentId, status);
    active.computeIfPresent(turn.agentId, (id, current) -> {
      if (current != turn) {
        return current;
      }
      append(turn, last);
      setStatus(turn, status, detail);
      return null;
    });
    metrics.turnEnded(outcome, turn.elapsed());
    releaseLease(turn.agentId, turn.leaseUse);
    turn.finished.complete(null);
  }

  private void setStatus(ActiveTurn turn, AgentStatus status, String detail) {
    append(turn, payloads.status(status, detail));
    records.update(turn.agentId, a -> a.status() == status ? a : a.withStatus(status, Instant.now()));
  }

  /** Stores a new CLI session id with the agent (for --resume); the session id normally stays the same. */
  private void rememberSession(ActiveTurn turn, String sessionId) {
    if (sessionId == null || sessionId.equals(turn.sessionId)) {
      return;
    }
    turn.sessionId = sessionId;
    cliSessions.put(turn.agentId, sessionId);
    records.update(turn.agentId,
        a -> sessionId.equals(a.cliSessionId()) ? a : a.withCliSessionId(sessionId, java.time.Instant.now()));
  }

  private CompletableFuture<ConversationEvent> append(ActiveTurn turn, EventPayload payload) {
    StoredPrefix replay = turn.replay;
    if (replay != null && replay.alreadyStored(payload)) {
      return CompletableFuture.completedFuture(null);
    }
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
      throw PlatformException.unavailable("the conversation store did not answer within " + STORE_WAIT_SECONDS + " s",
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw PlatformException.unavailable("interrupted while storing the message", e);
    }
  }

  /** Why a turn was stopped. */
  enum StopReason {
    USER, TIMEOUT, STORE, DELETED, SHUTDOWN, LEASE
  }

  /** A turn this server is running. */
  private static final class ActiveTurn {
    final String agentId;
    final String turnId;
    final long startedNanos;
    volatile RunningTurn running;
    volatile StopReason stopReason;
    volatile String sessionId;
    /** The use of the agent's lease this turn runs under ({@link LeaseKeeper.Held#use()}); 0 for none. */
    volatile long leaseUse;
    private volatile ScheduledFuture<?> timeout;
    private final AtomicBoolean ended = new AtomicBoolean();
    /** Completed once {@link #finish} has queued the end event and freed the agent. */
    final CompletableFuture<Void> finished = new CompletableFuture<>();
    private volatile boolean sawOutput;
    /** The turn's assistant text on its way to the store (read and written only on the runtime's event thread). */
    HeldText text;
    /** For a turn taken up after a restart: what the store already holds of its replayed output; else null. */
    StoredPrefix replay;

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

    /** Stops this turn; a stop that comes after the turn ended (a late timer, a late interrupt) does nothing. */
    void stop(StopReason reason) {
      if (ended.get()) {
        return;
      }
      if (stopReason == null || reason == StopReason.DELETED) {
        stopReason = reason; // a deletion wins: nothing of a deleted agent may be stored
      }
      RunningTurn r = running;
      if (r != null) {
        r.stop();
      }
    }

    void setTimeout(ScheduledFuture<?> t) {
      timeout = t;
      if (ended.get()) {
        t.cancel(false);
      }
    }

    boolean hasEnded() {
      return ended.get();
    }

    /** Marks the turn ended and cancels its timer; true only the first time. */
    boolean end() {
      if (!ended.compareAndSet(false, true)) {
        return false;
      }
      ScheduledFuture<?> t = timeout;
      if (t != null) {
        t.cancel(false);
      }
      return true;
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
