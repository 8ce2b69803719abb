package dev.agentplatform.replica;

import java.time.Instant;

/**
 * An agent's lease as stored: who holds it (a {@link Replica#key()}), its epoch (raised by every take, so a write
 * fenced by an older one is refused), until when it holds, and whether its holder let it go.
 */
public record Lease(String agentId, String replicaId, String owner, long epoch, Instant expiresAt, boolean released) {

  /** Whether another replica than {@code me} holds it now: taken, not let go, not expired, not a previous life. */
  public boolean heldElsewhere(Replica me, Instant now) {
    return !released && expiresAt.isAfter(now) && !owner.equals(me.key()) && !replicaId.equals(me.id());
  }
}
