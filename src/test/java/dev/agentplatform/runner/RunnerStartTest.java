package dev.agentplatform.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the runner decides before it listens: its settings, whom the CLI runs as, and whether it may read the secret. */
class RunnerStartTest {

  @TempDir
  Path dir;

  @Test
  void settingsComeFromTheEnvironmentAndArgumentsWinAndTheSecretFileIsRequired() {
    RunnerConfig c = RunnerConfig.from(Map.of("RUNNER_SECRET_FILE", "/s", "RUNNER_PORT", "9000"),
        new String[] {"--RUNNER_PORT=0", "--RUNNER_HOST=127.0.0.1"});
    assertEquals(new RunnerConfig("127.0.0.1", 0, Path.of("/s"), Path.of("/workspace"), "auto", 16 * 1024 * 1024,
        4 * 1024 * 1024), c);
    assertEquals(8888, RunnerConfig.from(Map.of("RUNNER_SECRET_FILE", "/s"), new String[0]).port());
    assertThrows(IllegalArgumentException.class, () -> RunnerConfig.from(Map.of(), new String[0]));
    assertThrows(IllegalArgumentException.class, () -> RunnerConfig.from(Map.of("RUNNER_SECRET_FILE", "/s",
        "RUNNER_PORT", "70000"), new String[0]));
    assertThrows(IllegalArgumentException.class, () -> RunnerConfig.from(Map.of("RUNNER_SECRET_FILE", "/s"),
        new String[] {"RUNNER_PORT=1"}));
  }

  @Test
  void asRootTheCliRunsAsNobodyThroughSetpriv() {
    assertEquals(CliUser.NOBODY, CliUser.resolve("auto", 0));
    assertNull(CliUser.resolve("auto", 1000), "a runner that is not root cannot switch");
    assertNull(CliUser.resolve("none", 0));
    assertEquals(new CliUser(1000, 1001), CliUser.resolve("1000:1001", 0));
    for (String bad : List.of("0:0", "root", "1000", "-1:5", "1000:0")) {
      assertThrows(IllegalArgumentException.class, () -> CliUser.resolve(bad, 0), bad);
    }
    // The caller's environment is set by env(1) after the switch, never given to setpriv, which runs as root.
    assertEquals(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--no-new-privs", "--", "env",
        "-i", "--", "LD_PRELOAD=/workspace/evil.so", "claude", "-p"),
        CliUser.NOBODY.command(List.of("claude", "-p"), java.util.Map.of("LD_PRELOAD", "/workspace/evil.so")));
    assertEquals(java.util.Set.of("PATH"), CliUser.SWITCH_ENVIRONMENT.keySet());
  }

  @Test
  void aSecretFileTheCliCouldReadIsReported() throws Exception {
    Path secret = Files.writeString(dir.resolve("secret"), "s");
    Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("r--------"));
    int owner = (Integer) Files.getAttribute(secret, "unix:uid");
    int group = (Integer) Files.getAttribute(secret, "unix:gid");
    CliUser other = new CliUser(owner + 4242, group + 4242);
    assertNull(other.canRead(secret), "owner-only: another uid cannot read it");
    assertTrue(new CliUser(owner, group + 4242).canRead(secret).contains("owned by the CLI's uid"));
    Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("r--r-----"));
    assertNull(other.canRead(secret));
    assertTrue(new CliUser(owner + 4242, group).canRead(secret).contains("readable by its group"));
    Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("r-----r--"));
    assertTrue(other.canRead(secret).contains("readable by everyone"));
    Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("---------"));
    assertTrue(new CliUser(owner, group + 4242).canRead(secret).contains("owned by the CLI's uid"),
        "an owner reads its file whatever the mode: it may change the mode");
  }

  @Test
  void asRootTheRunnerGivesTheWorkspaceItselfToTheCli() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(CliUser.effectiveUid() == 0, "only root may give a file away");
    Path workspace = Files.createDirectories(dir.resolve("workspace"));
    Path inside = Files.createDirectories(workspace.resolve("lost+found"));
    CliUser cli = new CliUser(1000, 1000);
    assertTrue(cli.own(workspace));
    assertEquals(1000, Files.getAttribute(workspace, "unix:uid"));
    assertEquals(1000, Files.getAttribute(workspace, "unix:gid"));
    assertEquals(0, Files.getAttribute(inside, "unix:uid"), "not what is in it");
    assertFalse(cli.own(workspace), "once is enough");
  }
}
