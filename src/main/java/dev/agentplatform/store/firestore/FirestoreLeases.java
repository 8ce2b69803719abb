package dev.agentplatform.store.firestore;

import com.google.api.core.ApiFuture;
import com.google.cloud.Timestamp;
import com.google.cloud.firestore.DocumentChange;
import com.google.cloud.firestore.DocumentReference;
import com.google.cloud.firestore.DocumentSnapshot;
import com.google.cloud.firestore.Firestore;
import com.google.cloud.firestore.ListenerRegistration;
import dev.agentplatform.conversation.Fence;
import dev.agentplatform.error.StoreException;
import dev.agentplatform.replica.Command;
import dev.agentplatform.replica.Commands;
import dev.agentplatform.replica.Lease;
import dev.agentplatform.replica.Leases;
import dev.agentplatform.replica.Replica;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The agents' leases in {@code leases/{agentId}} (taken, renewed and let go in transactions) and the commands
 * replicas hand each other in {@code commands}, which each start of a replica reads with one snapshot query for what
 * is addressed to it.
 */
public final class FirestoreLeases implements Leases, Commands {

  private static final Logger LOG = Logger.getLogger(FirestoreLeases.class.getName());
  /** A command not carried out within this long is stale (its holder died): a TTL policy on the field removes it. */
  static final Duration COMMAND_TTL = Duration.ofHours(1);
  /** Leases renewed per transaction: Firestore commits at most 500 writes. */
  static final int RENEW_PAGE = 400;

  private final Firestore db;
  private final String location;

  FirestoreLeases(Firestore db, String location) {
    this.db = db;
    this.location = location;
  }

  static DocumentReference leaseRef(Firestore db, String agentId) {
    return db.collection("leases").document(agentId);
  }

  /**
   * Whether a batch fenced by {@code fence} may be written: the lease is still held by the same start, not let go,
   * at that epoch or a later one. Later: a holder that takes its own lease again for its next turn raises the epoch
   * while the last turn's trailing events (its status) may still be on their way under the older one; those are
   * this holder's, and another server's take changes the owner, which refuses them.
   */
  static boolean writable(DocumentSnapshot lease, Fence fence) {
    Long epoch = lease.exists() ? lease.getLong("epoch") : null;
    return epoch != null && fence.owner().equals(lease.getString("owner")) && Boolean.FALSE.equals(lease.getBoolean(
        "released")) && epoch >= fence.epoch();
  }

  /** Whether the stored lease is still the one {@code fence} was taken under. */
  static boolean holds(DocumentSnapshot lease, Fence fence) {
    return lease.exists() && fence.owner().equals(lease.getString("owner")) && Boolean.FALSE.equals(lease
        .getBoolean("released")) && lease.getLong("epoch") != null && lease.getLong("epoch") == fence.epoch();
  }

  @Override
  public Take take(String agentId, Replica me, Instant now, Duration ttl) {
    DocumentReference ref = leaseRef(db, agentId);
    return await("take lease", db.runTransaction(tx -> {
      DocumentSnapshot d = tx.get(ref).get();
      Lease current = d.exists() ? lease(d) : null;
      boolean free = current == null || current.released() || !current.expiresAt().isAfter(now)
          || current.owner().equals(me.key()) || current.replicaId().equals(me.id());
      if (!free) {
        return new Take(current, false, false);
      }
      Lease taken = new Lease(agentId, me.id(), me.key(), current == null ? 1 : current.epoch() + 1, now.plus(ttl),
          false);
      tx.set(ref, fields(taken));
      return new Take(taken, true, current != null && !current.owner().equals(me.key()));
    }));
  }

  @Override
  public Set<String> renew(Replica me, Map<String, Long> held, Instant now, Duration ttl) {
    Set<String> lost = new HashSet<>();
    List<String> ids = new ArrayList<>(held.keySet());
    for (int from = 0; from < ids.size(); from += RENEW_PAGE) {
      List<String> page = ids.subList(from, Math.min(ids.size(), from + RENEW_PAGE));
      DocumentReference[] refs = page.stream().map(id -> leaseRef(db, id)).toArray(DocumentReference[]::new);
      lost.addAll(await("renew leases", db.runTransaction(tx -> {
        Set<String> gone = new HashSet<>();
        for (DocumentSnapshot d : tx.getAll(refs).get()) {
          if (holds(d, new Fence(me.key(), held.get(d.getId())))) {
            tx.update(d.getReference(), "expiresAt", timestamp(now.plus(ttl)));
          } else {
            gone.add(d.getId());
          }
        }
        return gone;
      })));
    }
    return lost;
  }

  @Override
  public void release(String agentId, Replica me, long epoch) {
    DocumentReference ref = leaseRef(db, agentId);
    await("release lease", db.runTransaction(tx -> {
      DocumentSnapshot d = tx.get(ref).get();
      if (holds(d, new Fence(me.key(), epoch))) {
        tx.update(ref, "released", true);
      }
      return null;
    }));
  }

  @Override
  public Optional<Lease> read(String agentId) {
    DocumentSnapshot d = await("read lease", leaseRef(db, agentId).get());
    return d.exists() ? Optional.of(lease(d)) : Optional.empty();
  }

  @Override
  public void delete(String agentId) {
    await("delete lease", leaseRef(db, agentId).delete());
  }

  @Override
  public void send(String owner, Command command) {
    Map<String, Object> f = new HashMap<>();
    f.put("to", owner);
    f.put("agentId", command.agentId());
    f.put("kind", command.kind().name());
    f.put("expireAt", timestamp(Instant.now().plus(COMMAND_TTL)));
    await("hand a command on", db.collection("commands").add(f));
  }

  @Override
  public AutoCloseable listen(Replica me, Consumer<Command> handler) {
    ListenerRegistration registration = db.collection("commands").whereEqualTo("to", me.key())
        .addSnapshotListener((snapshot, error) -> {
          if (error != null) {
            LOG.log(Level.WARNING, "listening for commands failed; the client retries", error);
            return;
          }
          for (DocumentChange change : snapshot.getDocumentChanges()) {
            if (change.getType() != DocumentChange.Type.ADDED) {
              continue;
            }
            DocumentSnapshot d = change.getDocument();
            try {
              handler.accept(new Command(d.getString("agentId"), Command.Kind.valueOf(d.getString("kind"))));
            } catch (RuntimeException e) {
              LOG.log(Level.WARNING, "carrying out command " + d.getId() + " failed", e);
            }
            d.getReference().delete();
          }
        });
    return registration::remove;
  }

  private static Lease lease(DocumentSnapshot d) {
    Timestamp t = d.getTimestamp("expiresAt");
    return new Lease(d.getId(), d.getString("replicaId"), d.getString("owner"), d.getLong("epoch"),
        t == null ? Instant.EPOCH : Instant.ofEpochSecond(t.getSeconds(), t.getNanos()),
        Boolean.TRUE.equals(d.getBoolean("released")));
  }

  private static Map<String, Object> fields(Lease l) {
    Map<String, Object> f = new HashMap<>();
    f.put("replicaId", l.replicaId());
    f.put("owner", l.owner());
    f.put("epoch", l.epoch());
    f.put("expiresAt", timestamp(l.expiresAt()));
    f.put("released", l.released());
    return f;
  }

  private static Timestamp timestamp(Instant i) {
    return Timestamp.ofTimeSecondsAndNanos(i.getEpochSecond(), i.getNano());
  }

  private <T> T await(String what, ApiFuture<T> future) {
    try {
      return future.get(FirestoreStore.CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new StoreException("Firestore (" + location + "): " + what + " failed: " + e.getCause().getMessage(),
          e.getCause());
    } catch (TimeoutException e) {
      future.cancel(true);
      throw new StoreException("Firestore (" + location + "): " + what + " failed: no answer within "
          + FirestoreStore.CALL_TIMEOUT_SECONDS + " s", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException("Firestore (" + location + "): " + what + " interrupted", e);
    }
  }
}
