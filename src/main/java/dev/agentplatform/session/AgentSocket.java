package dev.agentplatform.session;

import dev.agentplatform.agent.Agent;
import dev.agentplatform.agent.AgentJson;
import dev.agentplatform.application.AgentOperations;
import dev.agentplatform.concurrent.Workers;
import dev.agentplatform.config.PlatformConfig;
import dev.agentplatform.conversation.Subscription;
import dev.agentplatform.error.ErrorCode;
import dev.agentplatform.error.PlatformException;
import dev.agentplatform.metrics.PlatformMetrics;
import dev.agentplatform.session.ClientMessage.CreateAgent;
import dev.agentplatform.session.ClientMessage.DeleteAgent;
import dev.agentplatform.session.ClientMessage.GetAgent;
import dev.agentplatform.session.ClientMessage.Interrupt;
import dev.agentplatform.session.ClientMessage.ListAgents;
import dev.agentplatform.session.ClientMessage.Options;
import dev.agentplatform.session.ClientMessage.Ping;
import dev.agentplatform.session.ClientMessage.Send;
import dev.agentplatform.session.ClientMessage.Subscribe;
import dev.agentplatform.session.ClientMessage.Unsubscribe;
import dev.agentplatform.session.ClientMessage.UpdateAgent;
import dev.agentplatform.turn.CliWarmUp;
import dev.agentplatform.turn.TurnService;
import jakarta.enterprise.context.Dependent;
import jakarta.inject.Inject;
import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.spi.JsonProvider;
import jakarta.websocket.CloseReason;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.OnClose;
import jakarta.websocket.OnError;
import jakarta.websocket.OnMessage;
import jakarta.websocket.OnOpen;
import jakarta.websocket.PongMessage;
import jakarta.websocket.Session;
import jakarta.websocket.server.ServerEndpoint;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The WebSocket endpoint at {@code /ws}, a thin adapter over {@link AgentOperations}: decodes each frame, runs
 * the request as the connection's user, and answers with a reply or a typed error. No error closes the
 * connection, except a frame over the size limit and a failed sign-in.
 */
@ServerEndpoint(value = "/ws", configurator = IdentityConfigurator.class)
@Dependent
public class AgentSocket {

  private static final Logger LOG = Logger.getLogger(AgentSocket.class.getName());

  /** Looked up once: each {@code Json.create...} call looks the provider up again (a class-loader scan). */
  private static final JsonProvider JSON = JsonProvider.provider();
  private static final long CLOSE_GRACE_SECONDS = 5;
  private static final CloseReason TOO_BIG = new CloseReason(CloseReason.CloseCodes.TOO_BIG, "frame too large");

  @Inject
  AgentOperations operations;

  @Inject
  PlatformConfig config;

  @Inject
  Workers workers;

  @Inject
  PlatformMetrics metrics;

  @Inject
  Connections connections;

  private Connection connection;
  private final StringBuilder frame = new StringBuilder();
  private boolean oversized;

  @OnOpen
  public void open(Session session, EndpointConfig endpointConfig) {
    session.setMaxIdleTimeout(0);
    Object denied = session.getUserProperties().get(IdentityConfigurator.DENIED);
    Object user = session.getUserProperties().get(IdentityConfigurator.USER);
    if (denied != null || user == null) {
      String why = denied != null ? denied.toString() : "no user";
      metrics.error(ErrorCode.UNAUTHENTICATED);
      try {
        session.getBasicRemote().sendText(ProtocolCodec.error(null, ErrorCode.UNAUTHENTICATED, why));
        session.close(new CloseReason(CloseReason.CloseCodes.VIOLATED_POLICY, "unauthenticated"));
      } catch (java.io.IOException e) {
        LOG.log(Level.FINE, "closing an unauthenticated WebSocket failed", e);
      }
      return;
    }
    connection = new Connection(session, user.toString(), workers.senders(), config.sessionSendQueueLimit());
    connections.add(connection);
    metrics.sessionOpened();
    if (connections.stopping()) {
      return; // closed with 1012 by add, before any hello: the client backs off and tries again elsewhere
    }
    connection.send(ProtocolCodec.hello(connection.userId(), config.maxFrameBytes()));
  }

  /** Receives a frame in parts, so that one over the limit is refused without holding it whole. */
  @OnMessage
  public void message(String part, boolean last) {
    if (connection == null) {
      return;
    }
    connection.heard();
    if (oversized) {
      if (last) {
        connection.closeAfterQueued(TOO_BIG);
      }
      return;
    }
    if (frame.length() + part.length() > config.maxFrameBytes()) {
      oversized = true;
      frame.setLength(0);
      metrics.error(ErrorCode.TOO_LARGE);
      connection.send(ProtocolCodec.error(null, ErrorCode.TOO_LARGE, "a frame may hold at most "
          + config.maxFrameBytes() + " characters (MAX_FRAME_BYTES); closing the connection"));
      if (last) {
        connection.closeAfterQueued(TOO_BIG);
      } else {
        // Closing while the container still reads the rest of the message races with that read: Liberty then
        // sometimes drops the TCP connection without the close frame (seen about once in 80 tries). So the close
        // waits for the message's last part, or for a grace period when a client never sends it.
        Connection c = connection;
        workers.scheduler().schedule(() -> c.closeAfterQueued(TOO_BIG), CLOSE_GRACE_SECONDS, TimeUnit.SECONDS);
      }
      return;
    }
    frame.append(part);
    if (last) {
      String text = frame.toString();
      frame.setLength(0);
      handle(text);
    }
  }

  /** Binary frames are not part of the protocol: each one gets a typed error, and the connection stays open. */
  @OnMessage
  public void binary(ByteBuffer part, boolean last) {
    if (connection == null) {
      return;
    }
    connection.heard();
    if (!last) {
      return;
    }
    error(null, ErrorCode.BAD_REQUEST, "frames must be text (one JSON object each); binary frames are not read");
  }

  @OnMessage
  public void pong(PongMessage pong) {
    if (connection != null) {
      connection.heard();
    }
  }

  @OnClose
  public void close(Session session, CloseReason reason) {
    if (connection != null) {
      connection.closed();
      connections.remove(connection);
      metrics.sessionClosed();
      connection = null;
    }
  }

  @OnError
  public void failed(Session session, Throwable error) {
    // Mostly a peer that went away mid-frame: one line, no stack trace (FINE has it).
    LOG.fine(() -> "WebSocket error: " + error);
    LOG.log(Level.FINEST, "WebSocket error", error);
  }

  private void handle(String text) {
    String id = null;
    try {
      ClientMessage message = ProtocolCodec.decode(text);
      id = message.id();
      Dispatch dispatch = new Dispatch();
      JsonObjectBuilder fields = message.accept(dispatch);
      connection.send(ProtocolCodec.reply(id, fields));
      if (dispatch.afterReply != null) {
        dispatch.afterReply.run();
      }
    } catch (ProtocolException e) {
      error(e.requestId(), e.code(), e.getMessage());
    } catch (PlatformException e) {
      error(id, e.code(), e.getMessage());
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "request " + id + " failed", e);
      error(id, ErrorCode.INTERNAL, "internal error; the server log has the details");
    }
  }

  /** One request's handling; every request type has its method, and each returns its reply's fields. */
  private final class Dispatch implements ClientMessage.Handler<JsonObjectBuilder> {

    /** What must happen after the reply was queued (a subscription's replay follows its reply). */
    Runnable afterReply;

    private String user() {
      return connection.userId();
    }

    @Override
    public JsonObjectBuilder createAgent(CreateAgent m) {
      return JSON.createObjectBuilder().add("agent", AgentJson.toJson(operations.create(user(), m.agent())));
    }

    @Override
    public JsonObjectBuilder listAgents(ListAgents m) {
      JsonArrayBuilder list = JSON.createArrayBuilder();
      operations.list(user()).forEach(a -> list.add(AgentJson.toJson(a)));
      return JSON.createObjectBuilder().add("agents", list);
    }

    @Override
    public JsonObjectBuilder getAgent(GetAgent m) {
      AgentOperations.AgentView view = operations.get(user(), m.agentId());
      return JSON.createObjectBuilder().add("agent", AgentJson.toJson(view.agent())).add("lastSeq", view.lastSeq());
    }

    @Override
    public JsonObjectBuilder updateAgent(UpdateAgent m) {
      return JSON.createObjectBuilder().add("agent",
          AgentJson.toJson(operations.update(user(), m.agentId(), m.changes())));
    }

    @Override
    public JsonObjectBuilder deleteAgent(DeleteAgent m) {
      operations.delete(user(), m.agentId());
      AgentSocket.this.unsubscribe(m.agentId());
      return JSON.createObjectBuilder().add("deleted", m.agentId());
    }

    @Override
    public JsonObjectBuilder send(Send m) {
      if (!connection.subscriptions().containsKey(m.agentId())) {
        Agent agent = operations.requireOwned(user(), m.agentId());
        AgentSocket.this.subscribe(agent, operations.lastSeq(agent));
      }
      TurnService.Started started = operations.send(user(), m.agentId(), m.text());
      return JSON.createObjectBuilder().add("turnId", started.turnId()).add("seq", started.userMessage().seq());
    }

    @Override
    public JsonObjectBuilder interrupt(Interrupt m) {
      return JSON.createObjectBuilder().add("interrupted", operations.interrupt(user(), m.agentId()));
    }

    @Override
    public JsonObjectBuilder subscribe(Subscribe m) {
      Agent agent = operations.requireOwned(user(), m.agentId());
      afterReply = () -> AgentSocket.this.subscribe(agent, m.afterSeq());
      return JSON.createObjectBuilder().add("agentId", m.agentId()).add("afterSeq", m.afterSeq());
    }

    @Override
    public JsonObjectBuilder unsubscribe(Unsubscribe m) {
      AgentSocket.this.unsubscribe(m.agentId());
      return JSON.createObjectBuilder().add("agentId", m.agentId());
    }

    @Override
    public JsonObjectBuilder ping(Ping m) {
      return JSON.createObjectBuilder().add("pong", true);
    }

    @Override
    public JsonObjectBuilder options(Options m) {
      connection.batch(m.batch());
      return JSON.createObjectBuilder().add("batch", m.batch());
    }
  }

  private void subscribe(Agent agent, long afterSeq) {
    Connection c = connection;
    String agentId = agent.id();
    unsubscribe(agentId);
    Subscription s = operations.subscribe(agent, afterSeq,
        event -> c.send(EventFrames.frame(event)),
        failure -> {
          c.subscriptions().remove(agentId);
          c.send(ProtocolCodec.error(null, ErrorCode.UNAVAILABLE, "replaying agent " + agentId + " failed: "
              + failure.getMessage() + "; subscribe again"));
        });
    c.subscriptions().put(agentId, s);
  }

  private void unsubscribe(String agentId) {
    Subscription s = connection.subscriptions().remove(agentId);
    if (s != null) {
      s.close();
    }
  }

  private void error(String id, ErrorCode code, String message) {
    metrics.error(code);
    if (connection != null) {
      connection.send(ProtocolCodec.error(id, code, message));
    }
  }
}
