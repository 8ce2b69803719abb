package dev.agentplatform.runner;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The answer to {@code GET /cli/{instance}}.
 *
 * @param alive whether the CLI runs
 * @param exit how it ended ("exit code 0", "killed by signal 9"), null while it runs
 * @param stdoutBytes how many bytes it has printed on stdout so far (the offset its next byte gets)
 * @param stderrBytes the same for stderr
 */
record InstanceStatus(boolean alive, String exit, long stdoutBytes, long stderrBytes) {

  static InstanceStatus of(CliInstance cli) {
    String exit = cli.exit();
    return new InstanceStatus(exit == null, exit, cli.stdout().end(), cli.stderr().end());
  }

  String toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("alive", alive);
    m.put("exit", exit);
    m.put("stdoutBytes", stdoutBytes);
    m.put("stderrBytes", stderrBytes);
    return Json.write(m);
  }
}
