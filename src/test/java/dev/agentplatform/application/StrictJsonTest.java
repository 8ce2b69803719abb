package dev.agentplatform.application;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.error.ErrorCode;
import dev.agentplatform.error.PlatformException;
import jakarta.json.Json;
import jakarta.json.JsonNumber;
import java.io.StringReader;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** Client JSON is one object, not too deep, valid Unicode, and numbers are read exactly or refused. */
class StrictJsonTest {

  private static PlatformException refused(String text) {
    PlatformException e = assertThrows(PlatformException.class, () -> StrictJson.object(text, "the body"), text);
    assertEquals(ErrorCode.BAD_REQUEST, e.code(), text);
    return e;
  }

  @Test
  void readsOneObject() {
    assertEquals("b", StrictJson.object(" {\"a\":\"b\",\"s\":\"x}]\\\"{\"}\n", "the body").getString("a"));
    String deepest = "[".repeat(StrictJson.MAX_DEPTH - 1) + "]".repeat(StrictJson.MAX_DEPTH - 1);
    assertTrue(StrictJson.object("{\"a\":" + deepest + "}", "the body").containsKey("a"));
  }

  @Test
  void refusesWhatIsNotExactlyOneSoundObject() {
    assertEquals("the body must be a JSON object", refused("").getMessage());
    assertEquals("the body must be a JSON object", refused("[1]").getMessage());
    assertEquals("the body must be a JSON object", refused("\"s\"").getMessage());
    assertTrue(refused("{\"a\":").getMessage().startsWith("malformed JSON"));
    assertTrue(refused("{\"a\":1}}").getMessage().contains("after the end of the object"));
    assertTrue(refused("{\"a\":1}x").getMessage().contains("after the end of the object"));
    String tooDeep = "[".repeat(StrictJson.MAX_DEPTH) + "]".repeat(StrictJson.MAX_DEPTH);
    assertTrue(refused("{\"a\":" + tooDeep + "}").getMessage().contains("nested deeper than 32"));
    assertTrue(refused("{\"a\":" + "{\"a\":".repeat(200_000)).getMessage().contains("nested deeper than 32"));
    assertTrue(refused("{\"a\":\"\\ud800\"}").getMessage().contains("unpaired UTF-16 surrogate"));
    assertTrue(refused("{\"a\":[\"\udc00\"]}").getMessage().contains("unpaired UTF-16 surrogate"));
    assertTrue(refused("{\"a\":1" + "0".repeat(5000) + "}").getMessage().startsWith("malformed JSON"));
  }

  private static OptionalLong whole(String number, long min, long max) {
    JsonNumber n = Json.createReader(new StringReader("[" + number + "]")).readArray().getJsonNumber(0);
    return StrictJson.wholeNumber(n, min, max);
  }

  @Test
  void numbersAreWholeAndInRangeOrRefused() {
    assertEquals(OptionalLong.of(0), whole("0", 0, Long.MAX_VALUE));
    assertEquals(OptionalLong.of(Long.MAX_VALUE), whole("9223372036854775807", 0, Long.MAX_VALUE));
    assertEquals(OptionalLong.of(120), whole("1.2e2", 0, Long.MAX_VALUE));
    assertFalse(whole("9223372036854775808", 0, Long.MAX_VALUE).isPresent());
    assertFalse(whole("1e400", 0, Long.MAX_VALUE).isPresent());
    assertFalse(whole("1e999999999", 0, Long.MAX_VALUE).isPresent());
    assertFalse(whole("1e-999999999", 0, Long.MAX_VALUE).isPresent());
    assertFalse(whole("0.5", 0, Long.MAX_VALUE).isPresent());
    assertFalse(whole("-1", 0, Long.MAX_VALUE).isPresent());
  }
}
