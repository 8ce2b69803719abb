package dev.agentplatform.runtime;

/** Hears a running turn's events, in order, on a runtime thread; must not block for long. */
@FunctionalInterface
public interface TurnListener {
  void onEvent(RuntimeEvent event);
}
