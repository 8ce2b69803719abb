package dev.agentplatform.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.replica.local.OneServer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The keeper of this server's leases: one renewal call for all it holds, listeners told of a lease lost, and a
 * release that lets go only the epoch it names (a later take of the same agent stays held).
 */
class LeaseKeeperTest {

  /** Leases in memory that record the calls and lose what the test says. */
  static final class Recording implements Leases {
    final OneServer inner = new OneServer();
    final List<Map<String, Long>> renewals = new ArrayList<>();
    final List<Long> released = new ArrayList<>();
    final Set<String> toLose = new HashSet<>();

    @Override
    public Take take(String agentId, Replica me, Instant now, Duration ttl) {
      return inner.take(agentId, me, now, ttl);
    }

    @Override
    public Set<String> renew(Replica me, Map<String, Long> held, Instant now, Duration ttl) {
      renewals.add(held);
      return Set.copyOf(toLose);
    }

    @Override
    public void release(String agentId, Replica me, long epoch) {
      released.add(epoch);
    }

    @Override
    public Optional<Lease> read(String agentId) {
      return Optional.empty();
    }

    @Override
    public void delete(String agentId) {
    }
  }

  final Recording leases = new Recording();
  final LeaseKeeper keeper = new LeaseKeeper(leases, leases.inner, new Replica("r", "1"), Duration.ofSeconds(15));

  @Test
  void allHeldLeasesAreRenewedInOneCallAndALostOneIsReported() {
    long x = keeper.take("x").orElseThrow().epoch();
    long y = keeper.take("y").orElseThrow().epoch();
    List<String> lost = new ArrayList<>();
    keeper.onLost(lost::add);
    leases.toLose.add("y");
    keeper.renewAll();
    assertEquals(List.of(Map.of("x", x, "y", y)), leases.renewals, "one call for both");
    assertEquals(List.of("y"), lost);
    assertEquals(1, keeper.heldCount());
    keeper.renewAll();
    assertEquals(Map.of("x", x), leases.renewals.get(1), "a lost lease is no longer renewed");
    assertEquals(List.of("y"), lost, "and reported once");
  }

  @Test
  void aLeaseStillHeldIsUsedAgainWithNoStoreCallAndOnlyItsLastUseLetsItGo() {
    LeaseKeeper.Held first = keeper.take("x").orElseThrow();
    LeaseKeeper.Held second = keeper.take("x").orElseThrow();
    assertEquals(first.epoch(), second.epoch(), "the same lease: no store call, no new epoch");
    keeper.release("x", first.use());
    assertEquals(List.of(), leases.released, "the second turn uses it now");
    assertEquals(1, keeper.heldCount());
    keeper.release("x", second.use());
    assertEquals(List.of(second.epoch()), leases.released);
    assertEquals(0, keeper.heldCount());
    assertTrue(keeper.take("x").orElseThrow().epoch() > second.epoch(), "taken again from the store");
  }

  @Test
  void nothingHeldMeansNoRenewalCall() {
    keeper.renewAll();
    assertFalse(leases.renewals.size() > 0);
  }
}
