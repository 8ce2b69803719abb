package dev.agentplatform.replica;

import java.util.function.Consumer;

/**
 * How a replica hands a command to the one that holds an agent's lease (the port the replica feature owns): through
 * Firestore, where each start listens with one query for what is addressed to it; nothing to hand on one server.
 */
public interface Commands {

  /** Hands {@code command} to the start {@code owner} (a {@link Replica#key()}); throws StoreException if it cannot. */
  void send(String owner, Command command);

  /** Delivers every command addressed to {@code me} from now on to {@code handler}, until the result is closed. */
  AutoCloseable listen(Replica me, Consumer<Command> handler);
}
