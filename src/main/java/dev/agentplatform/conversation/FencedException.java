package dev.agentplatform.conversation;

import dev.agentplatform.error.StoreException;

/** A batch of events refused because the agent's lease passed to another server: this one must stop writing. */
public class FencedException extends StoreException {

  public FencedException(String agentId, Fence fence) {
    super("agent " + agentId + " is now served by another server (this one's lease, epoch " + fence.epoch()
        + ", was taken over): nothing more of its turn is stored here", null);
  }
}
