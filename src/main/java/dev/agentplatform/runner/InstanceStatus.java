package dev.agentplatform.runner;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The answer to {@code GET /cli/{instance}}, and one item of {@code GET /cli}'s.
 *
 * @param instance the CLI's id
 * @param alive whether the CLI runs
 * @param exit how it ended ("exit code 0", "killed by signal 9"), null while it runs
 * @param stdoutBytes how many bytes it has printed on stdout so far (the offset its next byte gets)
 * @param stderrBytes the same for stderr
 * @param marks the latest named stdin writes, oldest first, each with the stdout offset its answer begins at
 */
record InstanceStatus(String instance, boolean alive, String exit, long stdoutBytes, long stderrBytes,
    Map<String, Long> marks) {

  static InstanceStatus of(CliInstance cli) {
    String exit = cli.exit();
    return new InstanceStatus(cli.id(), exit == null, exit, cli.stdout().end(), cli.stderr().end(), cli.marks());
  }

  Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("instance", instance);
    m.put("alive", alive);
    m.put("exit", exit);
    m.put("stdoutBytes", stdoutBytes);
    m.put("stderrBytes", stderrBytes);
    m.put("marks", new LinkedHashMap<String, Object>(marks));
    return m;
  }

  String toJson() {
    return Json.write(toMap());
  }
}
