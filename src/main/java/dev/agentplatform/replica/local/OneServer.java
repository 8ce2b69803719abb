package dev.agentplatform.replica.local;

import dev.agentplatform.replica.Command;
import dev.agentplatform.replica.Commands;
import dev.agentplatform.replica.Lease;
import dev.agentplatform.replica.Leases;
import dev.agentplatform.replica.Replica;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Leases and commands for one server alone (the embedded store, which refuses a second on its data directory, or
 * Firestore with {@code REPLICATION=single}): every lease is granted at once, no write is fenced and no command ever
 * has to go elsewhere.
 */
public final class OneServer implements Leases, Commands {

  private final ConcurrentHashMap<String, Long> epochs = new ConcurrentHashMap<>();

  @Override
  public Take take(String agentId, Replica me, Instant now, Duration ttl) {
    long epoch = epochs.merge(agentId, 1L, Long::sum);
    return new Take(new Lease(agentId, me.id(), me.key(), epoch, now.plus(ttl), false), true, false);
  }

  @Override
  public Set<String> renew(Replica me, Map<String, Long> held, Instant now, Duration ttl) {
    return Set.of();
  }

  @Override
  public void release(String agentId, Replica me, long epoch) {
  }

  @Override
  public Optional<Lease> read(String agentId) {
    return Optional.empty();
  }

  @Override
  public void delete(String agentId) {
    epochs.remove(agentId);
  }

  /** One server: nobody else writes, so its writes are plain batches, never fenced. */
  @Override
  public boolean shared() {
    return false;
  }

  @Override
  public void send(String owner, Command command) {
    throw new IllegalStateException("one server: no other replica to hand " + command + " to");
  }

  @Override
  public AutoCloseable listen(Replica me, Consumer<Command> handler) {
    return () -> {
    };
  }
}
