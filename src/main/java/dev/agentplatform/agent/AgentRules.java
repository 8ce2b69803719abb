package dev.agentplatform.agent;

import dev.agentplatform.error.PlatformException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.regex.Pattern;

/** The limits an agent's fields must keep; every violation is a {@code bad_request} naming the field. */
public final class AgentRules {

  public static final int NAME_MAX = 100;
  public static final int INSTRUCTIONS_MAX = 20_000;
  public static final int TOOLS_MAX = 64;

  /** Model ids and aliases such as {@code sonnet}, {@code claude-sonnet-4-5} or {@code claude-opus-4-1[1m]}. */
  private static final Pattern MODEL = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:@/\\-\\[\\]]{0,99}");

  /** A tool rule as the CLI takes it: {@code Write}, {@code mcp__srv__tool}, or {@code Bash(git log:*)}. */
  private static final Pattern TOOL = Pattern.compile("[A-Za-z][A-Za-z0-9_\\-]{0,99}(\\([^()\\x00-\\x1f]{1,200}\\))?");

  private AgentRules() {
  }

  public static AgentDraft validate(AgentDraft draft, String defaultModel) {
    String name = name(draft.name());
    String instructions = instructions(draft.instructions() == null ? "" : draft.instructions());
    String model = draft.model() == null || draft.model().isBlank() ? defaultModel : model(draft.model());
    List<String> tools = tools(draft.allowedTools() == null ? List.of() : draft.allowedTools());
    return new AgentDraft(name, instructions, model, tools);
  }

  public static AgentChanges validate(AgentChanges changes) {
    if (changes.isEmpty()) {
      throw PlatformException.badRequest("changes: name at least one of name, instructions, model, allowedTools");
    }
    return new AgentChanges(
        changes.name() == null ? null : name(changes.name()),
        changes.instructions() == null ? null : instructions(changes.instructions()),
        changes.model() == null ? null : (changes.model().isBlank() ? "" : model(changes.model())),
        changes.allowedTools() == null ? null : tools(changes.allowedTools()));
  }

  private static String name(String name) {
    if (name == null || name.isBlank()) {
      throw PlatformException.badRequest("name: required, 1 to " + NAME_MAX + " characters");
    }
    String trimmed = name.strip();
    if (trimmed.length() > NAME_MAX) {
      throw PlatformException.badRequest("name: at most " + NAME_MAX + " characters");
    }
    if (trimmed.chars().anyMatch(Character::isISOControl)) {
      throw PlatformException.badRequest("name: control characters are not allowed");
    }
    return trimmed;
  }

  private static String instructions(String instructions) {
    if (instructions.length() > INSTRUCTIONS_MAX) {
      throw PlatformException.badRequest("instructions: at most " + INSTRUCTIONS_MAX + " characters");
    }
    if (instructions.indexOf('\0') >= 0) {
      throw PlatformException.badRequest("instructions: NUL characters are not allowed");
    }
    return instructions;
  }

  private static String model(String model) {
    String trimmed = model.strip();
    if (!MODEL.matcher(trimmed).matches()) {
      throw PlatformException.badRequest("model: not a model name (letters, digits and . _ - : @ / [ ], up to 100)");
    }
    return trimmed;
  }

  private static List<String> tools(List<String> tools) {
    if (tools.size() > TOOLS_MAX) {
      throw PlatformException.badRequest("allowedTools: at most " + TOOLS_MAX + " entries");
    }
    LinkedHashSet<String> unique = new LinkedHashSet<>();
    for (String tool : tools) {
      if (tool == null || !TOOL.matcher(tool.strip()).matches()) {
        throw PlatformException.badRequest("allowedTools: '" + (tool == null ? "null" : abbreviate(tool))
            + "' is not a tool rule such as Write, Bash or Bash(git log:*)");
      }
      unique.add(tool.strip());
    }
    return List.copyOf(unique);
  }

  private static String abbreviate(String s) {
    return s.length() > 60 ? s.substring(0, 60) + "..." : s;
  }
}
