package dev.agentplatform.runtime.cli;

/** The CLI printed something that is not the stream-json the platform expects. */
public class CliOutputException extends Exception {

  public CliOutputException(String message) {
    super(message);
  }
}
