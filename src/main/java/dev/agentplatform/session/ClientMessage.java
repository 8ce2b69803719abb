package dev.agentplatform.session;

import dev.agentplatform.agent.AgentChanges;
import dev.agentplatform.agent.AgentDraft;

/**
 * A request frame from a client; each carries the client-chosen {@code id} that its reply echoes. Every record
 * hands itself to its own method of a {@link Handler}, so a new request type does not compile until the endpoint
 * answers it (Java 17 has no exhaustive switch over types).
 */
public sealed interface ClientMessage {

  String id();

  <R> R accept(Handler<R> handler);

  /** Answers each kind of request; {@code R} is what the endpoint makes of it (the reply's fields). */
  interface Handler<R> {
    R createAgent(CreateAgent m);

    R listAgents(ListAgents m);

    R getAgent(GetAgent m);

    R updateAgent(UpdateAgent m);

    R deleteAgent(DeleteAgent m);

    R send(Send m);

    R interrupt(Interrupt m);

    R subscribe(Subscribe m);

    R unsubscribe(Unsubscribe m);

    R ping(Ping m);

    R options(Options m);
  }

  record CreateAgent(String id, AgentDraft agent) implements ClientMessage {
    @Override
    public <R> R accept(Handler<R> handler) {
      return handler.createAgent(this);
    }
  }

  record ListAgents(String id) implements ClientMessage {
    @Override
    public <R> R accept(Handler<R> handler) {
      return handler.listAgents(this);
    }
  }

  record GetAgent(String id, String agentId) implements ClientMessage {
    @Override
    public <R> R accept(Handler<R> handler) {
      return handler.getAgent(this);
    }
  }

  record UpdateAgent(String id, String agentId, AgentChanges changes) implements ClientMessage {
    @Override
    public <R> R accept(Handler<R> handler) {
      return handler.updateAgent(this);
    }
  }

  record DeleteAgent(String id, String agentId) implements ClientMessage {
    @Override
    public <R> R accept(Handler<R> handler) {
      return handler.deleteAgent(this);
    }
  }

  record Send(String id, String agentId, String text) implements ClientMessage {
    @Override
    public <R> R accept(Handler<R> handler) {
      return handler.send(this);
    }
  }

  record Interrupt(String id, String agentId) implements ClientMessage {
    @Override
    public <R> R accept(Handler<R> handler) {
      return handler.interrupt(this);
    }
  }

  record Subscribe(String id, String agentId, long afterSeq) implements ClientMessage {
    @Override
    public <R> R accept(Handler<R> handler) {
      return handler.subscribe(this);
    }
  }

  record Unsubscribe(String id, String agentId) implements ClientMessage {
    @Override
    public <R> R accept(Handler<R> handler) {
      return handler.unsubscribe(this);
    }
  }

  record Ping(String id) implements ClientMessage {
    @Override
    public <R> R accept(Handler<R> handler) {
      return handler.ping(this);
    }
  }

  /** Options of the connection; {@code batch}: several queued events of an agent may come as one message. */
  record Options(String id, boolean batch) implements ClientMessage {
    @Override
    public <R> R accept(Handler<R> handler) {
      return handler.options(this);
    }
  }
}
