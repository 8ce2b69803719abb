package dev.agentplatform.runtime.process;

import dev.agentplatform.runtime.cli.CliConnection;
import java.io.InputStream;
import java.io.OutputStream;

/** A CLI running as a child process of the server. */
final class LocalCli implements CliConnection {

  private final Process process;

  LocalCli(Process process) {
    this.process = process;
  }

  @Override
  public OutputStream stdin() {
    return process.getOutputStream();
  }

  @Override
  public InputStream stdout() {
    return process.getInputStream();
  }

  @Override
  public InputStream stderr() {
    return process.getErrorStream();
  }

  @Override
  public boolean alive() {
    return process.isAlive();
  }

  @Override
  public void kill() {
    ProcessTree.kill(process.toHandle());
  }

  @Override
  public String awaitExit() throws InterruptedException {
    return CliConnection.exitDescription(process.waitFor());
  }

  @Override
  public String describe() {
    return "pid " + process.pid();
  }
}
