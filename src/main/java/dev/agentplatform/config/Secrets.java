package dev.agentplatform.config;

import java.util.List;
import java.util.Objects;

/** The configured values that must never show in logs or stored events, and the one way they are blotted out. */
public record Secrets(List<String> values) {

  public static final Secrets NONE = new Secrets(List.of());

  public Secrets {
    // Too short a value would blot out ordinary text; no real key or token is that short.
    values = values.stream().filter(Objects::nonNull).filter(v -> v.length() >= 4).toList();
  }

  public String redact(String text) {
    if (text == null) {
      return null;
    }
    String out = text;
    for (String secret : values) {
      out = out.replace(secret, "[redacted]");
    }
    return out;
  }
}
