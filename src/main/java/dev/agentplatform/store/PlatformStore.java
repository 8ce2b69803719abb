package dev.agentplatform.store;

/**
 * The life cycle of the store the platform runs on; each adapter (embedded SQLite, Firestore) implements it
 * together with the ports the features own ({@code agent.AgentRepository}, {@code conversation.EventStore}).
 *
 * <p>Every method throws {@link dev.agentplatform.error.StoreException} when the store cannot be reached.
 */
public interface PlatformStore extends AutoCloseable {

  /** A short name for logs and readiness: {@code embedded} or {@code firestore}. */
  String name();

  /** Where the data lives, for the log line at start (a path or a project id). */
  String location();

  /** Throws unless the store answers now (for the readiness probe, which runs it on a schedule). */
  void ping();

  @Override
  void close();
}
