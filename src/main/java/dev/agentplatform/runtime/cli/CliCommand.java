package dev.agentplatform.runtime.cli;

import dev.agentplatform.agent.AgentSettings;
import jakarta.json.spi.JsonProvider;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Claude Code command line for a kept-warm agent process: headless, stream-json in and out, partial
 * messages on, and the agent's settings as flags. Always an argument list: no shell ever parses it.
 *
 * <p>Settings files are not loaded ({@code --setting-sources ""}) and only configured MCP servers are used, so an
 * agent cannot widen its own permissions by writing a settings file into its workspace: what it may do comes
 * only from these flags.
 */
public final class CliCommand {
  /** Looked up once: each {@code Json.create...} call looks the provider up again (a class-loader scan). */
  private static final JsonProvider JSON = JsonProvider.provider();

  private CliCommand() {
  }

  public static List<String> arguments(String cli, AgentSettings settings, String permissionMode,
      String resumeSessionId) {
    List<String> args = new ArrayList<>(List.of(cli, "-p",
        "--input-format", "stream-json",
        "--output-format", "stream-json",
        "--verbose",
        "--include-partial-messages",
        "--setting-sources", "",
        "--strict-mcp-config",
        "--permission-mode", permissionMode));
    if (!settings.model().isBlank()) {
      args.add("--model");
      args.add(settings.model());
    }
    if (!settings.instructions().isBlank()) {
      args.add("--append-system-prompt");
      args.add(settings.instructions());
    }
    if (resumeSessionId != null && !resumeSessionId.isBlank()) {
      args.add("--resume");
      args.add(resumeSessionId);
    }
    if (!settings.allowedTools().isEmpty()) {
      // Variadic: each rule is its own argument (a rule such as "Bash(git log:*)" holds a space), and it comes last.
      args.add("--allowedTools");
      args.addAll(settings.allowedTools());
    }
    return args;
  }

  /**
   * The whole environment the CLI gets, wherever it runs: its home and config directory in the agent's workspace,
   * telemetry and updates off, git kept below {@code gitCeiling}, and then {@code extra} (the model credentials
   * and whatever CLI_PASS_ENV lets through). Nothing else of the server's environment reaches it.
   */
  public static Map<String, String> environment(String workspace, String gitCeiling, Map<String, String> extra) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("HOME", workspace);
    env.put("LANG", "C.UTF-8");
    env.put("CLAUDE_CONFIG_DIR", workspace + "/.claude");
    env.put("DISABLE_TELEMETRY", "1");
    env.put("DISABLE_AUTOUPDATER", "1");
    env.put("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1");
    // Git commands the agent runs must not reach a repository above its workspace (with DATA_DIR inside a
    // checkout, the platform's own). The CLI's own "is a git repository" note does not ask git and is not affected.
    env.put("GIT_CEILING_DIRECTORIES", gitCeiling);
    env.putAll(extra);
    return env;
  }

  /** The stdin line that hands the CLI one user message. */
  public static String userMessageLine(String text) {
    return JSON.createObjectBuilder().add("type", "user")
        .add("message", JSON.createObjectBuilder().add("role", "user").add("content", text))
        .build().toString();
  }
}
