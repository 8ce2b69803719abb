package dev.agentplatform.application;

import dev.agentplatform.error.PlatformException;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import jakarta.json.spi.JsonProvider;
import java.io.StringReader;
import java.math.BigDecimal;
import java.util.Map;

/**
 * Reads what a client sent as exactly one JSON object, refusing before the parser runs what the parser would
 * choke on (nesting deeper than {@link #MAX_DEPTH}, characters after the object) and, after it, strings that are
 * not valid Unicode; every fault is a {@code bad_request} that names it.
 */
public final class StrictJson {
  /** Looked up once: each {@code Json.create...} call looks the provider up again (a class-loader scan). */
  private static final JsonProvider JSON = JsonProvider.provider();

  /** The deepest nesting of objects and arrays a frame or body may have; no request needs more than 4. */
  public static final int MAX_DEPTH = 32;

  private StrictJson() {
  }

  /**
   * The one JSON object in {@code text}; {@code subject} names it in messages ("a frame", "the body").
   *
   * @throws PlatformException {@code bad_request}, with a message that says what is wrong
   */
  public static JsonObject object(String text, String subject) {
    if (text == null || text.isBlank()) {
      throw PlatformException.badRequest(subject + " must be a JSON object");
    }
    scan(text, subject);
    JsonValue value;
    try (JsonReader reader = JSON.createReader(new StringReader(text))) {
      value = reader.readValue();
    } catch (RuntimeException e) {
      // JsonException for bad syntax; the parser's own limits (number length) throw other runtime exceptions.
      throw PlatformException.badRequest("malformed JSON: " + e.getMessage());
    }
    if (!(value instanceof JsonObject o)) {
      throw PlatformException.badRequest(subject + " must be a JSON object");
    }
    checkStrings(o, subject);
    return o;
  }

  /**
   * A JSON number as a {@code long} in {@code [min, max]}, or empty when it is not a whole number in that range;
   * never converts a huge exponent into digits, and never wraps around.
   */
  public static java.util.OptionalLong wholeNumber(JsonNumber n, long min, long max) {
    BigDecimal d = n.bigDecimalValue();
    if (d.signum() != 0 && d.scale() > 0 && d.stripTrailingZeros().scale() > 0) {
      return java.util.OptionalLong.empty();
    }
    if (d.compareTo(BigDecimal.valueOf(min)) < 0 || d.compareTo(BigDecimal.valueOf(max)) > 0) {
      return java.util.OptionalLong.empty();
    }
    return java.util.OptionalLong.of(d.longValue());
  }

  /** True when {@code s} holds a high surrogate without its low one or a low one without its high one. */
  public static boolean hasLoneSurrogate(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)) {
        if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
          i++;
        } else {
          return true;
        }
      } else if (Character.isLowSurrogate(c)) {
        return true;
      }
    }
    return false;
  }

  /** One pass over the text: the object's depth, where it ends, and raw unpaired surrogates. */
  private static void scan(String text, String subject) {
    int start = 0;
    while (start < text.length() && isSpace(text.charAt(start))) {
      start++;
    }
    if (text.charAt(start) != '{') {
      throw PlatformException.badRequest(subject + " must be a JSON object");
    }
    if (hasLoneSurrogate(text)) {
      throw PlatformException.badRequest(subject + " holds an unpaired UTF-16 surrogate (not valid Unicode)");
    }
    int depth = 0;
    boolean inString = false;
    for (int i = start; i < text.length(); i++) {
      char c = text.charAt(i);
      if (inString) {
        if (c == '\\') {
          i++;
        } else if (c == '"') {
          inString = false;
        }
        continue;
      }
      if (c == '"') {
        inString = true;
      } else if (c == '{' || c == '[') {
        if (++depth > MAX_DEPTH) {
          throw PlatformException.badRequest(subject + " is nested deeper than " + MAX_DEPTH + " levels");
        }
      } else if (c == '}' || c == ']') {
        if (--depth == 0) {
          for (int j = i + 1; j < text.length(); j++) {
            if (!isSpace(text.charAt(j))) {
              throw PlatformException.badRequest("malformed JSON: characters after the end of the object at "
                  + (j + 1));
            }
          }
          return;
        }
        if (depth < 0) {
          break;
        }
      }
    }
    // An object that never closes: the parser says where.
  }

  private static boolean isSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
  }

  /** Escapes such as {@code \ud800} make unpaired surrogates the raw text did not show. */
  private static void checkStrings(JsonValue v, String subject) {
    if (v instanceof JsonString s) {
      if (hasLoneSurrogate(s.getString())) {
        throw PlatformException.badRequest(subject + " holds an unpaired UTF-16 surrogate (not valid Unicode)");
      }
    } else if (v instanceof JsonObject o) {
      for (Map.Entry<String, JsonValue> e : o.entrySet()) {
        if (hasLoneSurrogate(e.getKey())) {
          throw PlatformException.badRequest(subject + " holds an unpaired UTF-16 surrogate (not valid Unicode)");
        }
        checkStrings(e.getValue(), subject);
      }
    } else if (v instanceof JsonArray a) {
      for (JsonValue item : a) {
        checkStrings(item, subject);
      }
    }
  }
}
