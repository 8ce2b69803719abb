package dev.agentplatform.runtime.cli;

import dev.agentplatform.agent.AgentSettings;
import java.util.ArrayList;
import java.util.List;

/**
 * The Claude Code command line for a kept-warm agent process: headless, stream-json in and out, partial
 * messages on, and the agent's settings as flags. Always an argument list: no shell ever parses it.
 *
 * <p>Settings files are not loaded ({@code --setting-sources ""}) and only configured MCP servers are used, so an
 * agent cannot widen its own permissions by writing a settings file into its workspace: what it may do comes
 * only from these flags.
 */
public final class CliCommand {

  private CliCommand() {
  }

  public static List<String> arguments(String cli, AgentSettings settings, String permissionMode, String resumeSessionId) {
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

  /** The stdin line that hands the CLI one user message. */
  public static String userMessageLine(String text) {
    return jakarta.json.Json.createObjectBuilder().add("type", "user")
        .add("message", jakarta.json.Json.createObjectBuilder().add("role", "user").add("content", text))
        .build().toString();
  }
}
