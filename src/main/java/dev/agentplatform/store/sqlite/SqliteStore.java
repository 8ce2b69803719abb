package dev.agentplatform.store.sqlite;

import dev.agentplatform.agent.Agent;
import dev.agentplatform.agent.AgentRepository;
import dev.agentplatform.agent.AgentStatus;
import dev.agentplatform.conversation.ConversationEvent;
import dev.agentplatform.conversation.EventJson;
import dev.agentplatform.conversation.EventStore;
import dev.agentplatform.error.StoreException;
import dev.agentplatform.store.PlatformStore;
import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonString;
import jakarta.json.spi.JsonProvider;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The embedded store for a laptop run: one SQLite file in the data directory, written in WAL mode with a full
 * sync on every commit so that an acknowledged event survives a crash.
 *
 * <p>One connection serves all calls, one at a time; SQLite serialises writers anyway, and the platform batches
 * an agent's events into one transaction.
 */
public final class SqliteStore implements PlatformStore, AgentRepository, EventStore {
  /** Looked up once: each {@code Json.create...} call looks the provider up again (a class-loader scan). */
  private static final JsonProvider JSON = JsonProvider.provider();

  private final Path file;
  private final Connection connection;

  private SqliteStore(Path file, Connection connection) {
    this.file = file;
    this.connection = connection;
  }

  /** Held while this store is open: the embedded store serves one server, never two on one data directory. */
  private java.nio.channels.FileLock lock;

  /**
   * Locks {@code agent-platform.lock} in the directory (a file of its own: SQLite's locks on the database are not to
   * be shared with another opener in this process), or refuses with the reason when another process holds it. A
   * lock held in this process (an application restarted in place) is let be: that is still one server.
   */
  static java.nio.channels.FileLock lockOneServer(Path directory) throws IOException {
    Path lockFile = directory.resolve("agent-platform.lock");
    java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(lockFile,
        java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE);
    java.nio.channels.FileLock lock;
    try {
      lock = channel.tryLock();
    } catch (java.nio.channels.OverlappingFileLockException e) {
      channel.close();
      return null;
    }
    if (lock == null) {
      channel.close();
      throw new StoreException("the embedded store at " + directory + " is in use by another server: the embedded"
          + " (SQLite) store serves one server only; stop the other one, give this one its own DATA_DIR, or run"
          + " several replicas on Firestore (STORE=firestore)", null);
    }
    return lock;
  }

  /** Opens (creating if needed) {@code agent-platform.db} in the given directory. */
  public static SqliteStore open(Path directory) {
    Path file = directory.resolve("agent-platform.db");
    try {
      Files.createDirectories(directory);
      java.nio.channels.FileLock lock = lockOneServer(directory);
      // The driver is used directly, not looked up in DriverManager: after the application is restarted in place
      // (dev mode), DriverManager holds only the driver of the old class loader and finds none for the new one.
      Connection c = new org.sqlite.JDBC().connect("jdbc:sqlite:" + file, new java.util.Properties());
      try (Statement s = c.createStatement()) {
        s.execute("PRAGMA journal_mode=WAL");
        s.execute("PRAGMA synchronous=FULL");
        s.execute("PRAGMA busy_timeout=5000");
        s.execute("PRAGMA foreign_keys=ON");
        s.execute("CREATE TABLE IF NOT EXISTS agents (id TEXT PRIMARY KEY, owner_id TEXT NOT NULL,"
            + " name TEXT NOT NULL, instructions TEXT NOT NULL, model TEXT NOT NULL, allowed_tools TEXT NOT NULL,"
            + " status TEXT NOT NULL, cli_session_id TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)");
        s.execute("CREATE INDEX IF NOT EXISTS agents_by_owner ON agents(owner_id, created_at)");
        s.execute("CREATE TABLE IF NOT EXISTS events (agent_id TEXT NOT NULL, seq INTEGER NOT NULL,"
            + " turn_id TEXT NOT NULL, ts TEXT NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL,"
            + " PRIMARY KEY (agent_id, seq)) WITHOUT ROWID");
      }
      c.setAutoCommit(true);
      SqliteStore store = new SqliteStore(file, c);
      store.lock = lock;
      return store;
    } catch (SQLException | IOException e) {
      throw new StoreException("cannot open the embedded store at " + file + ": " + e.getMessage(), e);
    }
  }

  @Override
  public String name() {
    return "embedded";
  }

  @Override
  public String location() {
    return file.toString();
  }

  @Override
  public synchronized void createAgent(Agent a) {
    try (PreparedStatement p = connection.prepareStatement("INSERT INTO agents (id, owner_id, name, instructions,"
        + " model, allowed_tools, status, cli_session_id, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)")) {
      bindAgent(p, a);
      p.executeUpdate();
    } catch (SQLException e) {
      throw failure("create agent", e);
    }
  }

  @Override
  public synchronized Optional<Agent> findAgent(String agentId) {
    try (PreparedStatement p = connection.prepareStatement("SELECT * FROM agents WHERE id = ?")) {
      p.setString(1, agentId);
      try (ResultSet r = p.executeQuery()) {
        return r.next() ? Optional.of(agent(r)) : Optional.empty();
      }
    } catch (SQLException e) {
      throw failure("read agent", e);
    }
  }

  @Override
  public synchronized List<Agent> listAgents(String ownerId) {
    try (PreparedStatement p = connection.prepareStatement(
        "SELECT * FROM agents WHERE owner_id = ? ORDER BY created_at, id")) {
      p.setString(1, ownerId);
      List<Agent> agents = new ArrayList<>();
      try (ResultSet r = p.executeQuery()) {
        while (r.next()) {
          agents.add(agent(r));
        }
      }
      return agents;
    } catch (SQLException e) {
      throw failure("list agents", e);
    }
  }

  @Override
  public synchronized List<Agent> agentsWithStatus(AgentStatus status) {
    try (PreparedStatement p = connection.prepareStatement("SELECT * FROM agents WHERE status = ? ORDER BY id")) {
      p.setString(1, status.wire());
      List<Agent> agents = new ArrayList<>();
      try (ResultSet r = p.executeQuery()) {
        while (r.next()) {
          agents.add(agent(r));
        }
      }
      return agents;
    } catch (SQLException e) {
      throw failure("list agents by status", e);
    }
  }

  @Override
  public synchronized boolean updateSettings(Agent a) {
    try (PreparedStatement p = connection.prepareStatement("UPDATE agents SET name = ?, instructions = ?, model = ?,"
        + " allowed_tools = ?, updated_at = ? WHERE id = ?")) {
      p.setString(1, a.name());
      p.setString(2, a.instructions());
      p.setString(3, a.model());
      p.setString(4, toolsJson(a.allowedTools()));
      p.setString(5, a.updatedAt().toString());
      p.setString(6, a.id());
      return p.executeUpdate() == 1;
    } catch (SQLException e) {
      throw failure("update agent", e);
    }
  }

  @Override
  public synchronized boolean updateState(String agentId, AgentStatus status, String cliSessionId, Instant at) {
    try (PreparedStatement p = connection.prepareStatement(
        "UPDATE agents SET status = ?, cli_session_id = ?, updated_at = ? WHERE id = ?")) {
      p.setString(1, status.wire());
      p.setString(2, cliSessionId);
      p.setString(3, at.toString());
      p.setString(4, agentId);
      return p.executeUpdate() == 1;
    } catch (SQLException e) {
      throw failure("update agent state", e);
    }
  }

  @Override
  public synchronized boolean deleteAgent(String agentId) {
    try (PreparedStatement agent = connection.prepareStatement("DELETE FROM agents WHERE id = ?")) {
      agent.setString(1, agentId);
      return agent.executeUpdate() == 1;
    } catch (SQLException e) {
      throw failure("delete agent", e);
    }
  }

  @Override
  public synchronized void deleteEvents(String agentId) {
    try (PreparedStatement events = connection.prepareStatement("DELETE FROM events WHERE agent_id = ?")) {
      events.setString(1, agentId);
      events.executeUpdate();
    } catch (SQLException e) {
      throw failure("delete events", e);
    }
  }

  @Override
  public synchronized void appendEvents(String agentId, List<ConversationEvent> events) {
    if (events.isEmpty()) {
      return;
    }
    EventStore.checkBatch(events);
    inTransaction("append events", () -> {
      try (PreparedStatement p = connection.prepareStatement(
          "INSERT INTO events (agent_id, seq, turn_id, ts, kind, data) VALUES (?,?,?,?,?,?)")) {
        for (ConversationEvent e : events) {
          p.setString(1, agentId);
          p.setLong(2, e.seq());
          p.setString(3, e.turnId() == null ? "" : e.turnId());
          p.setString(4, e.timestamp().toString());
          p.setString(5, e.kind());
          p.setString(6, EventJson.payloadToString(e.payload(), e.simulated()));
          p.addBatch();
        }
        p.executeBatch();
        return null;
      }
    });
  }

  @Override
  public synchronized List<ConversationEvent> events(String agentId, long afterSeq, int limit) {
    try (PreparedStatement p = connection.prepareStatement(
        "SELECT seq, turn_id, ts, kind, data FROM events WHERE agent_id = ? AND seq > ? ORDER BY seq LIMIT ?")) {
      p.setString(1, agentId);
      p.setLong(2, afterSeq);
      p.setInt(3, limit);
      List<ConversationEvent> out = new ArrayList<>();
      try (ResultSet r = p.executeQuery()) {
        while (r.next()) {
          out.add(EventJson.fromStored(agentId, r.getLong(1), r.getString(2), Instant.parse(r.getString(3)),
              r.getString(4), r.getString(5)));
        }
      }
      return out;
    } catch (SQLException e) {
      throw failure("read events", e);
    }
  }

  @Override
  public synchronized long lastSeq(String agentId) {
    try (PreparedStatement p = connection.prepareStatement("SELECT MAX(seq) FROM events WHERE agent_id = ?")) {
      p.setString(1, agentId);
      try (ResultSet r = p.executeQuery()) {
        return r.next() ? r.getLong(1) : 0;
      }
    } catch (SQLException e) {
      throw failure("read last seq", e);
    }
  }

  @Override
  public synchronized void ping() {
    try (Statement s = connection.createStatement(); ResultSet r = s.executeQuery("SELECT 1")) {
      r.next();
    } catch (SQLException e) {
      throw failure("ping", e);
    }
  }

  @Override
  public synchronized void close() {
    try {
      connection.close();
    } catch (SQLException e) {
      throw failure("close", e);
    } finally {
      if (lock != null) {
        try {
          lock.channel().close();
        } catch (IOException e) {
          // the process's end lets the lock go all the same
        }
      }
    }
  }

  /** Runs work in one transaction: committed whole, or rolled back whole. */
  private <T> T inTransaction(String what, SqlWork<T> work) {
    try {
      connection.setAutoCommit(false);
      try {
        T result = work.run();
        connection.commit();
        return result;
      } catch (SQLException e) {
        connection.rollback();
        throw e;
      } finally {
        connection.setAutoCommit(true);
      }
    } catch (SQLException e) {
      throw failure(what, e);
    }
  }

  /** A piece of JDBC work inside {@link #inTransaction}. */
  @FunctionalInterface
  private interface SqlWork<T> {
    T run() throws SQLException;
  }

  private static String toolsJson(List<String> allowedTools) {
    JsonArrayBuilder tools = JSON.createArrayBuilder();
    allowedTools.forEach(tools::add);
    return tools.build().toString();
  }

  private static void bindAgent(PreparedStatement p, Agent a) throws SQLException {
    p.setString(1, a.id());
    p.setString(2, a.ownerId());
    p.setString(3, a.name());
    p.setString(4, a.instructions());
    p.setString(5, a.model());
    p.setString(6, toolsJson(a.allowedTools()));
    p.setString(7, a.status().wire());
    p.setString(8, a.cliSessionId());
    p.setString(9, a.createdAt().toString());
    p.setString(10, a.updatedAt().toString());
  }

  private static Agent agent(ResultSet r) throws SQLException {
    List<String> tools = JSON.createReader(new StringReader(r.getString("allowed_tools"))).readArray()
        .getValuesAs(JsonString.class).stream().map(JsonString::getString).toList();
    return new Agent(r.getString("id"), r.getString("owner_id"), r.getString("name"), r.getString("instructions"),
        r.getString("model"), tools, AgentStatus.fromWire(r.getString("status")), r.getString("cli_session_id"),
        Instant.parse(r.getString("created_at")), Instant.parse(r.getString("updated_at")));
  }

  private StoreException failure(String what, SQLException e) {
    return new StoreException("embedded store (" + file + "): " + what + " failed: " + e.getMessage(), e);
  }
}
