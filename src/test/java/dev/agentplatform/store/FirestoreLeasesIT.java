package dev.agentplatform.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.conversation.ConversationEvent;
import dev.agentplatform.conversation.EventPayload;
import dev.agentplatform.conversation.Fence;
import dev.agentplatform.conversation.FencedException;
import dev.agentplatform.replica.Command;
import dev.agentplatform.replica.Leases.Take;
import dev.agentplatform.replica.Replica;
import dev.agentplatform.store.firestore.FirestoreLeases;
import dev.agentplatform.store.firestore.FirestoreStore;
import dev.agentplatform.testing.Platform;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The agents' leases, the fence on event batches and the commands between replicas, on the Firestore emulator: who
 * may take a lease when, that a batch written under a lease that was taken over is refused whole, and that a command
 * reaches only the start it is addressed to. Time is passed in, so expiry needs no waiting.
 */
class FirestoreLeasesIT {

  static final Duration TTL = Duration.ofSeconds(15);
  static FirestoreStore store;
  static FirestoreLeases leases;
  final Replica a = new Replica("a", "1");
  final Replica aAgain = new Replica("a", "2");
  final Replica b = new Replica("b", "1");
  final Instant t0 = Instant.now().truncatedTo(ChronoUnit.MICROS);

  @BeforeAll
  static void open() {
    store = FirestoreStore.connect("leases-it", "(default)", Platform.firestoreEmulatorHost());
    leases = store.leases();
  }

  @AfterAll
  static void close() {
    store.close();
  }

  @Test
  void aHeldLeaseIsRefusedToAnotherReplicaUntilItExpiresOrIsLetGo() {
    String agent = newAgent();
    Take first = leases.take(agent, a, t0, TTL);
    assertTrue(first.granted());
    assertFalse(first.changedHands(), "nobody held it before");
    Take refused = leases.take(agent, b, t0.plusSeconds(14), TTL);
    assertFalse(refused.granted(), "a lives until its lease expires");
    assertEquals(a.key(), refused.lease().owner());
    Take expired = leases.take(agent, b, t0.plusSeconds(15), TTL);
    assertTrue(expired.granted(), "expired: b takes it over");
    assertTrue(expired.changedHands());
    assertEquals(first.lease().epoch() + 1, expired.lease().epoch());
    leases.release(agent, a, first.lease().epoch());
    assertFalse(leases.take(agent, a, t0.plusSeconds(16), TTL).granted(), "a's late release lets nothing go");
    leases.release(agent, b, expired.lease().epoch());
    Take again = leases.take(agent, a, t0.plusSeconds(16), TTL);
    assertTrue(again.granted(), "let go: taken at once");
    assertTrue(again.changedHands());
  }

  @Test
  void aServerStartedAgainUnderItsIdTakesBackItsLeaseAtOnce() {
    String agent = newAgent();
    Take before = leases.take(agent, a, t0, TTL);
    Take after = leases.take(agent, aAgain, t0.plusSeconds(1), TTL);
    assertTrue(after.granted(), "its previous start is over");
    assertTrue(after.changedHands(), "what the new start knows of the agent is not what the old one wrote");
    assertEquals(before.lease().epoch() + 1, after.lease().epoch());
  }

  @Test
  void aBatchWrittenUnderALeaseTakenOverIsRefusedWhole() {
    String agent = newAgent();
    Take mine = leases.take(agent, a, t0, TTL);
    Fence fence = new Fence(a.key(), mine.lease().epoch());
    store.appendEvents(agent, List.of(event(agent, 1), event(agent, 2)), fence);
    Take theirs = leases.take(agent, b, t0.plusSeconds(20), TTL);
    assertTrue(theirs.granted());
    FencedException e = assertThrows(FencedException.class, () -> store.appendEvents(agent, List.of(event(agent, 3),
        event(agent, 4)), fence));
    assertTrue(e.getMessage().contains("another server"), e.getMessage());
    assertEquals(2, store.lastSeq(agent), "nothing of the refused batch was written");
    store.appendEvents(agent, List.of(event(agent, 3)), new Fence(b.key(), theirs.lease().epoch()));
    assertEquals(3, store.lastSeq(agent), "the new holder goes on from the last seq");
  }

  @Test
  void aHolderThatTakesItsLeaseAgainStillWritesWhatTheLastTurnLeftQueued() {
    String agent = newAgent();
    Fence older = new Fence(a.key(), leases.take(agent, a, t0, TTL).lease().epoch());
    Take again = leases.take(agent, a, t0.plusSeconds(1), TTL);
    assertTrue(again.granted());
    assertFalse(again.changedHands(), "the same start held it");
    store.appendEvents(agent, List.of(event(agent, 1)), older);
    leases.release(agent, a, older.epoch());
    store.appendEvents(agent, List.of(event(agent, 2)), new Fence(a.key(), again.lease().epoch()));
    assertEquals(2, store.lastSeq(agent), "the late release of the older take let nothing go");
    leases.release(agent, a, again.lease().epoch());
    assertThrows(FencedException.class, () -> store.appendEvents(agent, List.of(event(agent, 3)), older),
        "let go: nothing more is written under it");
  }

  @Test
  void renewingKeepsWhatIsStillMineAndNamesWhatWasLost() {
    String kept = newAgent();
    String lost = newAgent();
    long keptEpoch = leases.take(kept, a, t0, TTL).lease().epoch();
    long lostEpoch = leases.take(lost, a, t0, TTL).lease().epoch();
    assertTrue(leases.take(lost, b, t0.plusSeconds(15), TTL).granted());
    Set<String> gone = leases.renew(a, Map.of(kept, keptEpoch, lost, lostEpoch), t0.plusSeconds(10), TTL);
    assertEquals(Set.of(lost), gone);
    assertFalse(leases.take(kept, b, t0.plusSeconds(20), TTL).granted(), "renewed until t0 + 25 s");
  }

  @Test
  void aCommandReachesOnlyTheStartItIsAddressedTo() throws Exception {
    LinkedBlockingQueue<Command> toA = new LinkedBlockingQueue<>();
    LinkedBlockingQueue<Command> toB = new LinkedBlockingQueue<>();
    try (AutoCloseable la = leases.listen(a, toA::add); AutoCloseable lb = leases.listen(b, toB::add)) {
      String agent = newAgent();
      leases.send(a.key(), new Command(agent, Command.Kind.INTERRUPT));
      leases.send(b.key(), new Command(agent, Command.Kind.DELETED));
      assertEquals(new Command(agent, Command.Kind.INTERRUPT), toA.poll(30, TimeUnit.SECONDS));
      assertEquals(new Command(agent, Command.Kind.DELETED), toB.poll(30, TimeUnit.SECONDS));
      leases.send(b.key(), new Command(agent, Command.Kind.INTERRUPT));
      assertEquals(new Command(agent, Command.Kind.INTERRUPT), toB.poll(30, TimeUnit.SECONDS));
      assertNull(toA.poll(), "a got nothing of b's");
    }
  }

  private static String newAgent() {
    return "agent-" + UUID.randomUUID();
  }

  private ConversationEvent event(String agent, long seq) {
    return new ConversationEvent(agent, seq, "turn-1", t0, false, new EventPayload.UserMessage("message " + seq));
  }
}
