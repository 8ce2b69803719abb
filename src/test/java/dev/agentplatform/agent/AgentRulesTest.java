package dev.agentplatform.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.agentplatform.error.ErrorCode;
import dev.agentplatform.error.PlatformException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The field rules: valid drafts are normalised, invalid ones are bad requests naming the field. */
class AgentRulesTest {

  @Test
  void normalisesAValidDraft() {
    AgentDraft d = AgentRules.validate(new AgentDraft("  Helper ", null, null, List.of("Write", "Write",
        "Bash(git log:*)")), "sonnet");
    assertEquals("Helper", d.name());
    assertEquals("", d.instructions());
    assertEquals("sonnet", d.model());
    assertEquals(List.of("Write", "Bash(git log:*)"), d.allowedTools());
  }

  private static String refused(AgentDraft draft) {
    PlatformException e = assertThrows(PlatformException.class, () -> AgentRules.validate(draft, ""));
    assertEquals(ErrorCode.BAD_REQUEST, e.code());
    return e.getMessage();
  }

  @Test
  void refusesBadFields() {
    assertEquals("name: required, 1 to 100 characters", refused(new AgentDraft(" ", "", "", List.of())));
    assertEquals("name: at most 100 characters", refused(new AgentDraft("x".repeat(101), "", "", List.of())));
    assertEquals("model: not a model name (letters, digits and . _ - : @ / [ ], up to 100)",
        refused(new AgentDraft("a", "", "sonnet; rm -rf /", List.of())));
    assertEquals(
        "allowedTools: '--dangerously-skip-permissions' is not a tool rule such as Write, Bash or Bash(git log:*)",
        refused(new AgentDraft("a", "", "", List.of("--dangerously-skip-permissions"))));
    assertEquals("instructions: at most 20000 characters",
        refused(new AgentDraft("a", "x".repeat(20_001), "", List.of())));
  }

  @Test
  void anEmptyChangeIsRefused() {
    assertThrows(PlatformException.class, () -> AgentRules.validate(new AgentChanges(null, null, null, null)));
  }
}
