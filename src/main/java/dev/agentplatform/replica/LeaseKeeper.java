package dev.agentplatform.replica;

import dev.agentplatform.concurrent.Workers;
import dev.agentplatform.config.PlatformConfig;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The leases this server holds: takes an agent's lease before a turn runs here, renews all of them in one periodic
 * task (one store call, not a timer per agent), lets each go once its turn is recorded, tells its listeners of a
 * lease lost to another replica, and carries the commands addressed to this server to their handler.
 */
@ApplicationScoped
public class LeaseKeeper {

  private static final Logger LOG = Logger.getLogger(LeaseKeeper.class.getName());

  @Inject
  Leases leases;

  @Inject
  Commands commands;

  @Inject
  PlatformConfig config;

  @Inject
  Workers workers;

  private Replica me;
  private Duration ttl;
  /** The leases held here: agent id to epoch (changed under this, read by the renewal without it). */
  private final ConcurrentHashMap<String, Long> held = new ConcurrentHashMap<>();
  /** Guarded by this: each held lease's last use, which only its own release may let go. */
  private final java.util.HashMap<String, Long> uses = new java.util.HashMap<>();
  private long lastUse;
  private final Object[] stripes = new Object[64];

  {
    for (int i = 0; i < stripes.length; i++) {
      stripes[i] = new Object();
    }
  }
  private final List<Consumer<String>> onLost = new CopyOnWriteArrayList<>();
  private final List<Consumer<Command>> handlers = new CopyOnWriteArrayList<>();
  private ScheduledFuture<?> renewal;
  private AutoCloseable listening;

  public LeaseKeeper() {
  }

  /** For tests outside a container. */
  public LeaseKeeper(Leases leases, Commands commands, Replica me, Duration ttl) {
    this.leases = leases;
    this.commands = commands;
    this.me = me;
    this.ttl = ttl;
  }

  @PostConstruct
  void init() {
    me = new Replica(config.replicaId(), UUID.randomUUID().toString().replace("-", "").substring(0, 12));
    ttl = config.leaseTtl();
    long every = Math.max(200, ttl.toMillis() / 3);
    renewal = workers.scheduler().scheduleWithFixedDelay(() -> workers.pool().execute(this::renewAll), every, every,
        TimeUnit.MILLISECONDS);
    listening = commands.listen(me, c -> handlers.forEach(h -> h.accept(c)));
    LOG.info("replica " + me.key() + ": agents' leases last " + ttl.toSeconds() + " s (LEASE_SECONDS)");
  }

  @PreDestroy
  void close() {
    if (renewal != null) {
      renewal.cancel(false);
    }
    try {
      if (listening != null) {
        listening.close();
      }
    } catch (Exception e) {
      LOG.log(Level.FINE, "closing the command listener failed", e);
    }
  }

  /** Whether other servers share the agents (their writes must then be fenced by the leases). */
  public boolean shared() {
    return leases.shared();
  }

  public Replica replica() {
    return me;
  }

  /** Called with an agent's id when this server finds its lease taken by another replica. */
  public void onLost(Consumer<String> listener) {
    onLost.add(listener);
  }

  /** Called with each command another replica hands this server. */
  public void onCommand(Consumer<Command> handler) {
    handlers.add(handler);
  }

  /**
   * What {@link #take} got: the epoch that fences this server's writes, the use that {@link #release} names, and
   * whether others held the lease since this server last did.
   */
  public record Held(String agentId, String owner, long epoch, long use, boolean changedHands) {
  }

  /**
   * Takes the agent's lease for a turn here; empty when another live replica holds it (it runs a turn of the agent
   * or takes one up). A lease this server still holds (its last turn's release has not run yet) is used again with
   * no store call: back-to-back turns on one server cost the store nothing more than before.
   */
  public Optional<Held> take(String agentId) {
    synchronized (this) {
      Long epoch = held.get(agentId);
      if (epoch != null) {
        return Optional.of(use(agentId, epoch, false));
      }
    }
    Leases.Take t;
    synchronized (stripe(agentId)) {
      t = leases.take(agentId, me, Instant.now(), ttl);
    }
    if (!t.granted()) {
      return Optional.empty();
    }
    synchronized (this) {
      held.put(agentId, t.lease().epoch());
      return Optional.of(use(agentId, t.lease().epoch(), t.changedHands()));
    }
  }

  private Held use(String agentId, long epoch, boolean changedHands) {
    long use = ++lastUse;
    uses.put(agentId, use);
    return new Held(agentId, me.key(), epoch, use, changedHands);
  }

  /**
   * Lets the lease go (one store call, on the caller's thread) unless a later {@link #take} uses it since
   * {@code use}: then the later turn keeps it.
   */
  public void release(String agentId, long use) {
    long epoch;
    synchronized (this) {
      Long current = uses.get(agentId);
      Long e = held.get(agentId);
      if (current == null || current != use || e == null) {
        return;
      }
      uses.remove(agentId);
      held.remove(agentId);
      epoch = e;
    }
    letGo(agentId, epoch);
  }

  /**
   * The lock this server's own store calls on one agent's lease take turns on. A take and a release of one lease are
   * both read-modify-write transactions of its document: run at once they wait on each other's locks (the emulator
   * until its lock timeout), which a client that sends the moment a turn ends would make the rule.
   */
  private Object stripe(String agentId) {
    return stripes[Math.floorMod(agentId.hashCode(), stripes.length)];
  }

  private void letGo(String agentId, long epoch) {
    try {
      synchronized (stripe(agentId)) {
        leases.release(agentId, me, epoch);
      }
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "could not let the lease of agent " + agentId + " go; it expires in " + ttl.toSeconds()
          + " s", e);
    }
  }

  /** Lets every lease held here go: the server stops, its turns recorded. */
  public void releaseAll() {
    Map<String, Long> all;
    synchronized (this) {
      all = Map.copyOf(held);
      held.clear();
      uses.clear();
    }
    all.forEach(this::letGo);
  }

  /** The start (a {@link Replica#key()}) of another replica that holds the agent's lease now, if one does. */
  public Optional<String> holderElsewhere(String agentId) {
    if (held.containsKey(agentId)) {
      return Optional.empty();
    }
    Instant now = Instant.now();
    return leases.read(agentId).filter(l -> l.heldElsewhere(me, now)).map(Lease::owner);
  }

  /** Hands a command to the start that holds the agent's lease. */
  public void hand(String owner, Command command) {
    commands.send(owner, command);
  }

  /** Forgets a deleted agent's lease. */
  public void forget(String agentId) {
    synchronized (this) {
      held.remove(agentId);
      uses.remove(agentId);
    }
    leases.delete(agentId);
  }

  /** How many leases this server holds. */
  public int heldCount() {
    return held.size();
  }

  void renewAll() {
    if (held.isEmpty()) {
      return;
    }
    Map<String, Long> now = Map.copyOf(held);
    Set<String> lost;
    try {
      lost = leases.renew(me, now, Instant.now(), ttl);
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "renewing " + now.size() + " lease(s) failed; trying again", e);
      return;
    }
    for (String agentId : lost) {
      boolean removed;
      synchronized (this) {
        removed = held.remove(agentId, now.get(agentId));
        if (removed) {
          uses.remove(agentId);
        }
      }
      if (removed) {
        LOG.warning("the lease of agent " + agentId + " went to another replica: its turn here stops");
        onLost.forEach(l -> l.accept(agentId));
      }
    }
  }
}
