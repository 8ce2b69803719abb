package dev.agentplatform.runtime;

/** A turn in progress, which can be stopped. */
public interface RunningTurn {

  /**
   * Ends the turn now, with the whole process tree behind it; the listener then hears
   * {@link RuntimeEvent.Stopped} (unless the turn had already ended).
   */
  void stop();
}
