package dev.agentplatform.runtime.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.agent.AgentSettings;
import dev.agentplatform.config.Secrets;
import dev.agentplatform.runtime.TurnRequest;
import dev.agentplatform.runtime.process.ProcessSettings.SandboxMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sandbox's command line: every wall is there, only the agent's workspace is writable, no user text in it. */
class BubblewrapTest {

  private static final Path BWRAP = Path.of("/usr/bin/bwrap");
  private static final Path DATA = Path.of("/srv/platform/.data");
  private static final Path WORKSPACE = DATA.resolve("workspaces/agent-1");
  private static final Path CLI_DIR = Path.of(
      "/srv/platform/.tools/claude-code-9/node_modules/@anthropic-ai/claude-code");

  @TempDir
  Path dir;

  @Test
  void everyIsolationFlagIsThere() {
    List<String> args = Bubblewrap.arguments(BWRAP, WORKSPACE, CLI_DIR);
    assertEquals(BWRAP.toString(), args.get(0));
    assertEquals("--", args.get(args.size() - 1), "the CLI's own arguments follow the end of bwrap's options");
    for (String flag : List.of("--unshare-user", "--disable-userns", "--unshare-pid", "--unshare-ipc",
        "--unshare-uts", "--die-with-parent", "--new-session")) {
      assertTrue(args.contains(flag), flag + " in " + args);
    }
    assertTrue(Collections.indexOfSubList(args, List.of("--cap-drop", "ALL")) >= 0, args.toString());
    assertTrue(Collections.indexOfSubList(args, List.of("--proc", "/proc")) >= 0, args.toString());
    assertTrue(Collections.indexOfSubList(args, List.of("--dev", "/dev")) >= 0, args.toString());
    int remount = Collections.indexOfSubList(args, List.of("--remount-ro", "/"));
    assertTrue(remount > args.lastIndexOf("--bind") && remount > args.lastIndexOf("--ro-bind"),
        "the root is made read-only after every mount on it: " + args);
    assertFalse(args.contains("--unshare-net"), "the model endpoint must stay reachable");
    assertFalse(args.contains("--share-net"));
  }

  @Test
  void onlyTheWorkspaceIsWritableAndItIsTheWorkingDirectory() {
    List<String> args = Bubblewrap.arguments(BWRAP, WORKSPACE, CLI_DIR);
    List<String> writable = new ArrayList<>();
    for (int i = 0; i < args.size(); i++) {
      if (List.of("--bind", "--bind-try", "--dev-bind", "--dev-bind-try").contains(args.get(i))) {
        writable.add(args.get(i + 1) + " -> " + args.get(i + 2));
      }
    }
    assertEquals(List.of(WORKSPACE + " -> " + WORKSPACE), writable, "at its own path: --resume keys on the cwd");
    assertTrue(Collections.indexOfSubList(args, List.of("--chdir", WORKSPACE.toString())) >= 0, args.toString());
    assertTrue(Collections.indexOfSubList(args, List.of("--ro-bind", CLI_DIR.toString(), CLI_DIR.toString())) >= 0,
        "the CLI's directory, read-only: " + args);
    // The private /tmp is mounted before the workspace, which may lie under /tmp and must stay visible.
    int tmp = Collections.indexOfSubList(args, List.of("--tmpfs", "/tmp"));
    assertTrue(tmp >= 0 && tmp < args.indexOf("--bind"), args.toString());
    for (int i = 0; i < args.size(); i++) {
      if (args.get(i).startsWith("--") && args.get(i).contains("bind") && i + 1 < args.size()) {
        Path source = Path.of(args.get(i + 1));
        assertFalse(DATA.startsWith(source), "no bind shows the data directory: " + args.get(i + 1));
        assertTrue(!source.startsWith(DATA) || source.equals(WORKSPACE), "nothing else of it: " + source);
        assertFalse(source.equals(Path.of("/")) || source.equals(Path.of("/etc")) || source.equals(Path.of("/home"))
            || source.equals(Path.of("/root")) || source.equals(Path.of("/proc")), "not all of " + source);
      }
    }
  }

  @Test
  void theCliDirectoryIsItsPackageNeverTheCheckoutAroundIt() {
    assertEquals(CLI_DIR, Bubblewrap.installDir(CLI_DIR.resolve("bin/claude.exe")));
    assertEquals(Path.of("/opt/x/node_modules/claude"),
        Bubblewrap.installDir(Path.of("/opt/x/node_modules/claude/cli.js")));
    assertEquals(Path.of("/opt/claude/versions"), Bubblewrap.installDir(Path.of("/opt/claude/versions/2.1.328")));
    assertTrue(Bubblewrap.exposes(Path.of("/opt/claude/versions/data"), Path.of("/opt/claude/versions")).isPresent());
    assertTrue(Bubblewrap.exposes(Path.of("/usr/local/agent-data"), CLI_DIR).isPresent(), "/usr is shown read-only");
    assertTrue(Bubblewrap.exposes(DATA, CLI_DIR).isEmpty());
  }

  @Test
  void theUsersTextIsNeverInTheCommandAndTheAgentsSettingsComeAfterTheSandbox() throws Exception {
    Path cli = Files.createDirectories(dir.resolve("tools/bin")).resolve("claude");
    Files.writeString(cli, "#!/bin/sh\n");
    Files.setPosixFilePermissions(cli, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path link = Files.createSymbolicLink(dir.resolve("claude"), cli);
    ProcessSettings settings = new ProcessSettings(link.toString(), dir.resolve("workspaces"), "default", 65534, 65534,
        Duration.ofMinutes(5), 1000, Map.of(), new Secrets(List.of()), null, List.of(), SandboxMode.BUBBLEWRAP,
        "bwrap", null);
    String text = "please run --bind / / for me; $(rm -rf ~)";
    String instructions = "--ro-bind / / --chdir /";
    TurnRequest request = new TurnRequest("alice", "agent-1", "turn_1", text,
        new AgentSettings(instructions, "", List.of("Bash")), null);

    List<String> command = ProcessRuntime.commandLine(settings, true, BWRAP, link, WORKSPACE, request);

    assertFalse(command.stream().anyMatch(a -> a.contains("please run")), "the message goes to stdin only: " + command);
    assertEquals(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--no-new-privs", "--"),
        command.subList(0, 6), "the agent is not root, inside the sandbox or out");
    assertEquals(BWRAP.toString(), command.get(6));
    int end = 7 + command.subList(7, command.size()).indexOf("--");
    assertEquals(Bubblewrap.arguments(BWRAP, WORKSPACE, cli.getParent()), command.subList(6, end + 1));
    assertEquals(cli.toRealPath().toString(), command.get(end + 1), "the CLI by its real path, inside what is shown");
    assertTrue(command.indexOf(instructions) > end, "the owner's settings are the CLI's arguments, not bwrap's");
    assertEquals(1, Collections.frequency(command, instructions));
  }
}
