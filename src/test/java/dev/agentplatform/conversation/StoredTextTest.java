package dev.agentplatform.conversation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Cutting stored text by bytes: within the limit, never inside a character, and tool inputs still readable. */
class StoredTextTest {

  private static int stored(String text) {
    return Json.createValue(text).toString().getBytes(StandardCharsets.UTF_8).length - 2;
  }

  @Test
  void shortTextIsKeptAsItIs() {
    String text = "h\u00e9llo \ud83d\ude00";
    assertSame(text, StoredText.cut(text, 100));
    assertEquals("", StoredText.cut(null));
  }

  @Test
  void aCutCountsStoredBytesAndNeverSplitsACharacterOrASurrogatePair() {
    // Every cut point of a text of 1-, 2-, 3- and 4-byte characters and JSON escapes.
    String text = "a\u00e9\u2603\ud83d\ude00\"\n\u0001".repeat(50);
    for (int max = 0; max < 200; max++) {
      String cut = StoredText.cut(text, max);
      String head = cut.substring(0, cut.indexOf("\n[... ") < 0 ? cut.length() : cut.lastIndexOf("\n[... "));
      assertTrue(stored(head) <= max, "max " + max + ": " + stored(head));
      assertFalse(Character.isHighSurrogate(head.isEmpty() ? 'x' : head.charAt(head.length() - 1)),
          "max " + max + " split a surrogate pair");
      assertTrue(text.startsWith(head));
      assertTrue(stored(head) > max - 7, "max " + max + ": the head is as long as fits (" + stored(head) + ")");
    }
  }

  @Test
  void twoMegabytesOfThreeByteCharactersAreCutToTheLimitWithANote() {
    String text = "\u2603".repeat(700_000);
    String cut = StoredText.cut(text);
    assertTrue(cut.getBytes(StandardCharsets.UTF_8).length <= StoredText.MAX_TEXT_BYTES + 64);
    assertTrue(cut.endsWith(" more bytes not kept]"), cut.substring(cut.length() - 60));
    assertTrue(cut.contains("[... " + (2_100_000 - StoredText.MAX_TEXT_BYTES / 3 * 3) + " more bytes"),
        cut.substring(cut.length() - 60));
  }

  @Test
  void aBigWriteInputKeepsItsPathWholeAndCutsItsContent() {
    String content = "x".repeat(2 * 1024 * 1024);
    JsonObject input = Json.createObjectBuilder().add("content", content).add("file_path", "/w/a.txt").build();
    JsonObject cut = StoredText.cutInput(input).asJsonObject();
    assertEquals("/w/a.txt", cut.getString("file_path"));
    assertTrue(cut.getString("content").startsWith("xxxx"));
    assertTrue(cut.getString("content").endsWith(" more bytes not kept]"));
    assertTrue(StoredText.storedBytes(cut) <= StoredText.MAX_INPUT_BYTES, "" + StoredText.storedBytes(cut));
  }

  @Test
  void anInputOfManySmallStringsKeepsOnlyWhatThePageShows() {
    var many = Json.createArrayBuilder();
    for (int i = 0; i < 200; i++) {
      many.add("y".repeat(4000));
    }
    JsonObject input = Json.createObjectBuilder().add("command", "ls -la").add("parts", many).build();
    JsonObject cut = StoredText.cutInput(input).asJsonObject();
    assertEquals("ls -la", cut.getString("command"));
    assertFalse(cut.containsKey("parts"));
    assertTrue(cut.getString("_cut").contains("only the fields shown were kept"));
    JsonValue small = Json.createObjectBuilder().add("command", "ls").build();
    assertSame(small, StoredText.cutInput(small));
  }
}
