package dev.agentplatform.turn;

import dev.agentplatform.config.Secrets;
import dev.agentplatform.conversation.EventPayload.AssistantText;
import java.util.ArrayList;
import java.util.List;

/**
 * One turn's streamed assistant text on its way to the store, with secrets blotted out even when the model's deltas
 * split one: the end of a message's text that could begin a secret is held back until the next delta (or the next
 * event of the turn) shows whether it does. Not thread-safe: a turn's events arrive one at a time.
 */
final class HeldText {

  private final Secrets secrets;
  private String messageId;
  private String held = "";

  HeldText(Secrets secrets) {
    this.secrets = secrets;
  }

  /** What to store for this delta: the text held for another message first, then what is safe of this one. */
  List<AssistantText> accept(String deltaMessageId, String text) {
    List<AssistantText> out = new ArrayList<>(2);
    if (messageId != null && !messageId.equals(deltaMessageId)) {
      flush().ifPresent(out::add);
    }
    messageId = deltaMessageId;
    String clean = secrets.redact(held + (text == null ? "" : text));
    int keep = heldBackLength(clean);
    held = clean.substring(clean.length() - keep);
    String ready = clean.substring(0, clean.length() - keep);
    if (!ready.isEmpty()) {
      out.add(new AssistantText(secrets.redact(messageId), ready));
    }
    return out;
  }

  /** The text still held (before any other event of the turn is stored, and at its end). */
  java.util.Optional<AssistantText> flush() {
    if (held.isEmpty()) {
      return java.util.Optional.empty();
    }
    AssistantText rest = new AssistantText(secrets.redact(messageId), held);
    held = "";
    return java.util.Optional.of(rest);
  }

  /** The longest end of {@code text} that is the start, but not the whole, of a secret. */
  private int heldBackLength(String text) {
    int longest = 0;
    for (String secret : secrets.values()) {
      for (int n = Math.min(secret.length() - 1, text.length()); n > longest; n--) {
        if (text.regionMatches(text.length() - n, secret, 0, n)) {
          longest = n;
          break;
        }
      }
    }
    return longest;
  }
}
