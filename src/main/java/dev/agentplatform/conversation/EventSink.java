package dev.agentplatform.conversation;

/** Receives an agent's events in seq order; must not block (it runs on the thread that stored them). */
@FunctionalInterface
public interface EventSink {
  void accept(ConversationEvent event);
}
