package dev.agentplatform.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** The rule for agents without a sandbox: one user by construction, or an explicit switch; never by default. */
class AdaptersTest {

  @Test
  void unsandboxedAgentsAreAllowedOnlyForOneUserOrWhenSwitchedOn() {
    assertNull(Adapters.unsandboxedAllowedBecause("header", false), "several users and no switch: refused");
    assertEquals("AUTH_MODE=default serves one user", Adapters.unsandboxedAllowedBecause("default", false));
    assertEquals("ALLOW_UNSANDBOXED_USERS=true", Adapters.unsandboxedAllowedBecause("header", true));
  }
}
