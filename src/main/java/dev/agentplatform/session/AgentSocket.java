package dev.agentplatform.session;

import dev.agentplatform.agent.Agent;
import dev.agentplatform.agent.AgentJson;
import dev.agentplatform.agent.AgentService;
import dev.agentplatform.concurrent.Workers;
import dev.agentplatform.config.PlatformConfig;
import dev.agentplatform.conversation.ConversationService;
import dev.agentplatform.conversation.Subscription;
import dev.agentplatform.error.ErrorCode;
import dev.agentplatform.error.PlatformException;
import dev.agentplatform.metrics.PlatformMetrics;
import dev.agentplatform.session.ClientMessage.CreateAgent;
import dev.agentplatform.session.ClientMessage.DeleteAgent;
import dev.agentplatform.session.ClientMessage.GetAgent;
import dev.agentplatform.session.ClientMessage.Interrupt;
import dev.agentplatform.session.ClientMessage.ListAgents;
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
import jakarta.websocket.CloseReason;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.OnClose;
import jakarta.websocket.OnError;
import jakarta.websocket.OnMessage;
import jakarta.websocket.OnOpen;
import jakarta.websocket.Session;
import jakarta.websocket.server.ServerEndpoint;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The WebSocket endpoint at {@code /ws}: decodes each frame, runs the request as the connection's user, and
 * answers with a reply or a typed error. No error closes the connection, except a frame over the size limit
 * and a failed sign-in.
 */
@ServerEndpoint(value = "/ws", configurator = IdentityConfigurator.class)
@Dependent
public class AgentSocket {

  private static final Logger LOG = Logger.getLogger(AgentSocket.class.getName());

  @Inject
  AgentService agents;

  @Inject
  TurnService turns;

  @Inject
  CliWarmUp warmUp;

  @Inject
  ConversationService conversations;

  @Inject
  PlatformConfig config;

  @Inject
  Workers workers;

  @Inject
  PlatformMetrics metrics;

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
    connection = new Connection(session, user.toString(), workers.pool(), config.sessionSendQueueLimit());
    metrics.sessionOpened();
    connection.send(ProtocolCodec.hello(connection.userId(), config.maxFrameBytes()));
  }

  /** Receives a frame in parts, so that one over the limit is refused without holding it whole. */
  @OnMessage
  public void message(String part, boolean last) {
    if (connection == null || oversized) {
      return;
    }
    if (frame.length() + part.length() > config.maxFrameBytes()) {
      oversized = true;
      frame.setLength(0);
      metrics.error(ErrorCode.TOO_LARGE);
      connection.sendThenClose(ProtocolCodec.error(null, ErrorCode.TOO_LARGE, "a frame may hold at most "
          + config.maxFrameBytes() + " characters (MAX_FRAME_BYTES); closing the connection"),
          new CloseReason(CloseReason.CloseCodes.TOO_BIG, "frame too large"));
      return;
    }
    frame.append(part);
    if (last) {
      String text = frame.toString();
      frame.setLength(0);
      handle(text);
    }
  }

  @OnClose
  public void close(Session session, CloseReason reason) {
    if (connection != null) {
      connection.closed();
      metrics.sessionClosed();
      connection = null;
    }
  }

  @OnError
  public void failed(Session session, Throwable error) {
    LOG.log(Level.FINE, "WebSocket error", error);
  }

  private void handle(String text) {
    String id = null;
    try {
      ClientMessage message = ProtocolCodec.decode(text);
      id = message.id();
      dispatch(message);
    } catch (ProtocolException e) {
      error(e.requestId(), e.code(), e.getMessage());
    } catch (PlatformException e) {
      error(id, e.code(), e.getMessage());
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "request " + id + " failed", e);
      error(id, ErrorCode.INTERNAL, "internal error; the server log has the details");
    }
  }

  private void dispatch(ClientMessage message) {
    String user = connection.userId();
    String id = message.id();
    if (message instanceof CreateAgent m) {
      Agent agent = agents.create(user, m.agent());
      metrics.agentCreated();
      reply(id, Json.createObjectBuilder().add("agent", AgentJson.toJson(agent)));
      warmUp.warm(user, agent.id());
    } else if (message instanceof ListAgents) {
      JsonArrayBuilder list = Json.createArrayBuilder();
      agents.list(user).forEach(a -> list.add(AgentJson.toJson(turns.effective(a))));
      reply(id, Json.createObjectBuilder().add("agents", list));
    } else if (message instanceof GetAgent m) {
      Agent agent = turns.effective(agents.require(user, m.agentId()));
      reply(id, Json.createObjectBuilder().add("agent", AgentJson.toJson(agent))
          .add("lastSeq", conversations.lastSeq(agent.id())));
    } else if (message instanceof UpdateAgent m) {
      Agent agent = turns.effective(agents.update(user, m.agentId(), m.changes()));
      reply(id, Json.createObjectBuilder().add("agent", AgentJson.toJson(agent)));
    } else if (message instanceof DeleteAgent m) {
      agents.delete(user, m.agentId());
      metrics.agentDeleted();
      Subscription s = connection.subscriptions().remove(m.agentId());
      if (s != null) {
        s.close();
      }
      reply(id, Json.createObjectBuilder().add("deleted", m.agentId()));
    } else if (message instanceof Send m) {
      agents.require(user, m.agentId());
      if (!connection.subscriptions().containsKey(m.agentId())) {
        subscribe(m.agentId(), conversations.lastSeq(m.agentId()));
      }
      TurnService.Started started = turns.send(user, m.agentId(), m.text());
      reply(id, Json.createObjectBuilder().add("turnId", started.turnId()).add("seq", started.userMessage().seq()));
    } else if (message instanceof Interrupt m) {
      boolean stopped = turns.interrupt(user, m.agentId());
      reply(id, Json.createObjectBuilder().add("interrupted", stopped));
    } else if (message instanceof Subscribe m) {
      agents.require(user, m.agentId());
      reply(id, Json.createObjectBuilder().add("agentId", m.agentId()).add("afterSeq", m.afterSeq()));
      subscribe(m.agentId(), m.afterSeq());
      warmUp.warm(user, m.agentId());
    } else if (message instanceof Unsubscribe m) {
      Subscription s = connection.subscriptions().remove(m.agentId());
      if (s != null) {
        s.close();
      }
      reply(id, Json.createObjectBuilder().add("agentId", m.agentId()));
    } else if (message instanceof Ping) {
      reply(id, Json.createObjectBuilder().add("pong", true));
    }
  }

  private void subscribe(String agentId, long afterSeq) {
    Connection c = connection;
    Subscription previous = c.subscriptions().remove(agentId);
    if (previous != null) {
      previous.close();
    }
    Subscription s = conversations.subscribe(agentId, afterSeq,
        event -> c.send(EventFrames.frame(event)),
        failure -> {
          c.subscriptions().remove(agentId);
          c.send(ProtocolCodec.error(null, ErrorCode.UNAVAILABLE, "replaying agent " + agentId + " failed: "
              + failure.getMessage() + "; subscribe again"));
        });
    c.subscriptions().put(agentId, s);
  }

  private void reply(String id, jakarta.json.JsonObjectBuilder fields) {
    connection.send(ProtocolCodec.reply(id, fields));
  }

  private void error(String id, ErrorCode code, String message) {
    metrics.error(code);
    if (connection != null) {
      connection.send(ProtocolCodec.error(id, code, message));
    }
  }
}
