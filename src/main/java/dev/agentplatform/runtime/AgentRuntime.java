package dev.agentplatform.runtime;

/**
 * Where agents' turns run: the core hands a turn to a runtime and hears back through {@link TurnListener};
 * implementations (a local process, a simulation, later Docker and Kubernetes) live in sub-packages.
 */
public interface AgentRuntime extends AutoCloseable {

  /** The runtime's name as configured: {@code process}, {@code simulated}, ... */
  String name();

  /** Whether turns can run now, and if not, why and what to set. */
  RuntimeStatus status();

  /** What walls in each agent and why (for readiness), when the runtime has a choice of them. */
  default java.util.Optional<String> sandbox() {
    return java.util.Optional.empty();
  }

  /**
   * Starts a turn. Events reach the listener in order, from a runtime thread, ending with exactly one
   * {@link RuntimeEvent.Completed}, {@link RuntimeEvent.Failed} or {@link RuntimeEvent.Stopped}.
   *
   * @throws dev.agentplatform.error.PlatformException {@code unavailable} when the turn cannot start
   */
  RunningTurn start(TurnRequest request, TurnListener listener);

  /**
   * Takes up a turn a previous server process started, where it may still run: a sandbox pod's runner outlives the
   * server, and keeps the turn's output. The listener hears the turn's events from its very beginning (the caller
   * leaves out what it had already stored), then its end, as from {@link #start}. Called at start-up, before new
   * turns run. Empty when the turn cannot be taken up (by default: a server's own processes end with it), and the
   * caller then records the turn as ended.
   *
   * @param request the agent, its owner and settings, and the open turn's id (no text: nothing is sent)
   */
  default java.util.Optional<RunningTurn> reattach(TurnRequest request, TurnListener listener) {
    return java.util.Optional.empty();
  }

  /**
   * Starts the agent's CLI ahead of its next message (the page opened or created the agent), so that the message
   * takes the warm path; a CLI that already fits stays as it is. Called on a worker, never on a request's thread,
   * and only while {@link #status()} is available. The default does nothing (a runtime without warm CLIs).
   *
   * @param request the agent, its owner, settings and CLI session to resume ({@link TurnRequest#warmUp})
   */
  default void prepare(TurnRequest request) {
  }

  /** Lets go of whatever the runtime keeps for an agent (a warm process), e.g. after its settings changed. */
  void release(String agentId);

  /** Deletes the agent's workspace (after the agent was deleted). */
  void deleteWorkspace(String ownerId, String agentId);

  /** How many agents hold live resources (warm processes) right now. */
  int liveAgents();

  @Override
  void close();
}
