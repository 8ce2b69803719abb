package dev.agentplatform.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Every configured secret is blotted out wherever it occurs; values too short to be secrets are ignored. */
class SecretsTest {

  @Test
  void blotsOutEverySecretEverywhere() {
    Secrets secrets = new Secrets(Arrays.asList("sk-ant-key-123", "oauth-token-xyz", null, "abc"));
    assertEquals("key=[redacted] token=[redacted] again [redacted] abc",
        secrets.redact("key=sk-ant-key-123 token=oauth-token-xyz again sk-ant-key-123 abc"));
    assertNull(secrets.redact(null));
    assertEquals("nothing to hide", Secrets.NONE.redact("nothing to hide"));
  }
}
