package dev.agentplatform.store.firestore;

import com.google.api.core.ApiFuture;
import com.google.api.gax.rpc.NotFoundException;
import com.google.cloud.Timestamp;
import com.google.cloud.firestore.CollectionReference;
import com.google.cloud.firestore.DocumentReference;
import com.google.cloud.firestore.DocumentSnapshot;
import com.google.cloud.firestore.FieldPath;
import com.google.cloud.firestore.Firestore;
import com.google.cloud.firestore.FirestoreException;
import com.google.cloud.firestore.FirestoreOptions;
import com.google.cloud.firestore.Query;
import com.google.cloud.firestore.QueryDocumentSnapshot;
import com.google.cloud.firestore.QuerySnapshot;
import com.google.cloud.firestore.WriteBatch;
import dev.agentplatform.agent.Agent;
import dev.agentplatform.agent.AgentRepository;
import dev.agentplatform.agent.AgentStatus;
import dev.agentplatform.conversation.ConversationEvent;
import dev.agentplatform.conversation.EventJson;
import dev.agentplatform.conversation.EventStore;
import dev.agentplatform.conversation.Fence;
import dev.agentplatform.conversation.FencedException;
import dev.agentplatform.error.StoreException;
import dev.agentplatform.store.PlatformStore;
import io.grpc.Status;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The production store on Google Cloud Firestore: a document per agent in {@code agents}, and its events in
 * the sub-collection {@code agents/{id}/events}, one document per event named by its zero-padded seq.
 *
 * <p>Events are written with {@code create}, so a seq written twice fails the whole batch instead of
 * overwriting history. Every call waits at most {@link #CALL_TIMEOUT_SECONDS} seconds.
 */
public final class FirestoreStore implements PlatformStore, AgentRepository, EventStore {

  static final long CALL_TIMEOUT_SECONDS = 15;
  /** Events deleted per batch: Firestore commits at most 500 writes. */
  static final int DELETE_PAGE = 500;

  private final Firestore db;
  private final String location;

  private FirestoreStore(Firestore db, String location) {
    this.db = db;
    this.location = location;
  }

  /**
   * Connects to a project's database; with an emulator host, to the emulator instead (no credentials needed).
   */
  public static FirestoreStore connect(String projectId, String databaseId, String emulatorHost) {
    FirestoreOptions.Builder options = FirestoreOptions.newBuilder().setProjectId(projectId)
        .setDatabaseId(databaseId);
    if (emulatorHost != null) {
      // Setting NoCredentials here makes client 3.33 ignore the emulator (see shared notes): leave them unset.
      options.setEmulatorHost(emulatorHost);
    }
    String location = "project " + projectId + ", database " + databaseId
        + (emulatorHost != null ? ", emulator at " + emulatorHost : "");
    return new FirestoreStore(options.build().getService(), location);
  }

  @Override
  public String name() {
    return "firestore";
  }

  @Override
  public String location() {
    return location;
  }

  @Override
  public void createAgent(Agent agent) {
    await("create agent", agentRef(agent.id()).create(agentFields(agent)));
  }

  @Override
  public Optional<Agent> findAgent(String agentId) {
    DocumentSnapshot doc = await("read agent", agentRef(agentId).get());
    return doc.exists() ? Optional.of(agent(doc)) : Optional.empty();
  }

  @Override
  public List<Agent> listAgents(String ownerId) {
    QuerySnapshot snapshot = await("list agents", agents().whereEqualTo("ownerId", ownerId).get());
    List<Agent> out = new ArrayList<>();
    for (QueryDocumentSnapshot doc : snapshot) {
      out.add(agent(doc));
    }
    // Sorted here rather than in the query, so the deployment needs no composite index.
    out.sort(Comparator.comparing(Agent::createdAt).thenComparing(Agent::id));
    return out;
  }

  @Override
  public List<Agent> agentsWithStatus(AgentStatus status) {
    QuerySnapshot snapshot = await("list agents by status", agents().whereEqualTo("status", status.wire()).get());
    List<Agent> out = new ArrayList<>();
    for (QueryDocumentSnapshot doc : snapshot) {
      out.add(agent(doc));
    }
    return out;
  }

  @Override
  public boolean updateSettings(Agent agent) {
    Map<String, Object> f = new HashMap<>();
    f.put("name", agent.name());
    f.put("instructions", agent.instructions());
    f.put("model", agent.model());
    f.put("allowedTools", agent.allowedTools());
    f.put("updatedAt", timestamp(agent.updatedAt()));
    return update("update agent", agent.id(), f);
  }

  @Override
  public boolean updateState(String agentId, AgentStatus status, String cliSessionId, Instant at) {
    Map<String, Object> f = new HashMap<>();
    f.put("status", status.wire());
    f.put("cliSessionId", cliSessionId);
    f.put("updatedAt", timestamp(at));
    return update("update agent state", agentId, f);
  }

  /** Updates some fields of an existing agent document; false when there is none. */
  private boolean update(String what, String agentId, Map<String, Object> fields) {
    try {
      awaitOrThrow(agentRef(agentId).update(fields));
      return true;
    } catch (ExecutionException e) {
      if (isNotFound(e.getCause())) {
        return false;
      }
      throw failure(what, e.getCause());
    } catch (InterruptedException | TimeoutException e) {
      throw failure(what, e);
    }
  }

  @Override
  public boolean deleteAgent(String agentId) {
    DocumentSnapshot doc = await("read agent", agentRef(agentId).get());
    if (!doc.exists()) {
      return false;
    }
    await("delete agent", agentRef(agentId).delete());
    return true;
  }

  @Override
  public void deleteEvents(String agentId) {
    CollectionReference events = agentRef(agentId).collection("events");
    while (true) {
      // Only document names are needed; a page of full events could be 500 MiB.
      QuerySnapshot page = await("delete events", events.select(FieldPath.documentId()).limit(DELETE_PAGE).get());
      if (page.isEmpty()) {
        return;
      }
      WriteBatch batch = db.batch();
      page.forEach(doc -> batch.delete(doc.getReference()));
      await("delete events", batch.commit());
    }
  }

  @Override
  public void appendEvents(String agentId, List<ConversationEvent> events) {
    if (events.isEmpty()) {
      return;
    }
    EventStore.checkBatch(events);
    WriteBatch batch = db.batch();
    CollectionReference collection = agentRef(agentId).collection("events");
    for (ConversationEvent e : events) {
      batch.create(collection.document(String.format("%012d", e.seq())), eventFields(e));
    }
    await("append events", batch.commit());
  }

  /**
   * One transaction per batch (never per event): reads the agent's lease and creates the events only while it is
   * still {@code fence}, so a server that lost the lease cannot write after the one that took it.
   */
  @Override
  public void appendEvents(String agentId, List<ConversationEvent> events, Fence fence) {
    if (events.isEmpty()) {
      return;
    }
    EventStore.checkBatch(events);
    CollectionReference collection = agentRef(agentId).collection("events");
    DocumentReference lease = FirestoreLeases.leaseRef(db, agentId);
    boolean written = await("append events", db.runTransaction(tx -> {
      if (!FirestoreLeases.writable(tx.get(lease).get(), fence)) {
        return false;
      }
      for (ConversationEvent e : events) {
        tx.create(collection.document(String.format("%012d", e.seq())), eventFields(e));
      }
      return true;
    }));
    if (!written) {
      throw new FencedException(agentId, fence);
    }
  }

  private static Map<String, Object> eventFields(ConversationEvent e) {
    Map<String, Object> fields = new HashMap<>();
    fields.put("seq", e.seq());
    fields.put("turnId", e.turnId() == null ? "" : e.turnId());
    fields.put("ts", timestamp(e.timestamp()));
    fields.put("kind", e.kind());
    fields.put("data", EventJson.payloadToString(e.payload(), e.simulated()));
    return fields;
  }

  /** The agents' leases and the replicas' commands, in the same database. */
  public FirestoreLeases leases() {
    return new FirestoreLeases(db, location);
  }

  @Override
  public List<ConversationEvent> events(String agentId, long afterSeq, int limit) {
    QuerySnapshot snapshot = await("read events", agentRef(agentId).collection("events")
        .whereGreaterThan("seq", afterSeq).orderBy("seq").limit(limit).get());
    List<ConversationEvent> out = new ArrayList<>(snapshot.size());
    for (QueryDocumentSnapshot doc : snapshot) {
      out.add(EventJson.fromStored(agentId, doc.getLong("seq"), doc.getString("turnId"), instant(doc.getTimestamp(
          "ts")),
          doc.getString("kind"), doc.getString("data")));
    }
    return out;
  }

  @Override
  public long lastSeq(String agentId) {
    QuerySnapshot snapshot = await("read last seq", agentRef(agentId).collection("events")
        .orderBy("seq", Query.Direction.DESCENDING).limit(1).get());
    return snapshot.isEmpty() ? 0 : snapshot.getDocuments().get(0).getLong("seq");
  }

  @Override
  public void ping() {
    await("ping", agents().limit(1).get());
  }

  @Override
  public void close() {
    try {
      db.close();
    } catch (Exception e) {
      throw failure("close", e);
    }
  }

  private CollectionReference agents() {
    return db.collection("agents");
  }

  private DocumentReference agentRef(String agentId) {
    return agents().document(agentId);
  }

  private static Map<String, Object> agentFields(Agent a) {
    Map<String, Object> f = new HashMap<>();
    f.put("ownerId", a.ownerId());
    f.put("name", a.name());
    f.put("instructions", a.instructions());
    f.put("model", a.model());
    f.put("allowedTools", a.allowedTools());
    f.put("status", a.status().wire());
    f.put("cliSessionId", a.cliSessionId());
    f.put("createdAt", timestamp(a.createdAt()));
    f.put("updatedAt", timestamp(a.updatedAt()));
    return f;
  }

  @SuppressWarnings("unchecked")
  private static Agent agent(DocumentSnapshot d) {
    List<String> tools = (List<String>) d.get("allowedTools");
    return new Agent(d.getId(), d.getString("ownerId"), d.getString("name"), d.getString("instructions"),
        d.getString("model"), tools == null ? List.of() : tools, AgentStatus.fromWire(d.getString("status")),
        d.getString("cliSessionId"), instant(d.getTimestamp("createdAt")), instant(d.getTimestamp("updatedAt")));
  }

  private static Timestamp timestamp(Instant i) {
    return Timestamp.ofTimeSecondsAndNanos(i.getEpochSecond(), i.getNano());
  }

  private static Instant instant(Timestamp t) {
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
  }

  private <T> T await(String what, ApiFuture<T> future) {
    try {
      return awaitOrThrow(future);
    } catch (ExecutionException e) {
      throw failure(what, e.getCause());
    } catch (InterruptedException | TimeoutException e) {
      throw failure(what, e);
    }
  }

  private static <T> T awaitOrThrow(ApiFuture<T> future)
      throws ExecutionException, InterruptedException, TimeoutException {
    try {
      return future.get(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw e;
    } catch (TimeoutException e) {
      future.cancel(true);
      throw e;
    }
  }

  private static boolean isNotFound(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof NotFoundException) {
        return true;
      }
      if (c instanceof FirestoreException fe && fe.getStatus() != null
          && fe.getStatus().getCode() == Status.Code.NOT_FOUND) {
        return true;
      }
    }
    return false;
  }

  private StoreException failure(String what, Throwable cause) {
    String detail = cause instanceof TimeoutException ? "no answer within " + CALL_TIMEOUT_SECONDS + " s"
        : String.valueOf(cause.getMessage());
    return new StoreException("Firestore (" + location + "): " + what + " failed: " + detail, cause);
  }
}
