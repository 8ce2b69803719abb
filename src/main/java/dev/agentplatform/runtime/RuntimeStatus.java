package dev.agentplatform.runtime;

/** Whether a runtime can run turns; {@code reason} says why not, and what to set, when it cannot. */
public record RuntimeStatus(boolean available, String reason) {

  public static RuntimeStatus ok(String detail) {
    return new RuntimeStatus(true, detail);
  }

  public static RuntimeStatus down(String reason) {
    return new RuntimeStatus(false, reason);
  }
}
