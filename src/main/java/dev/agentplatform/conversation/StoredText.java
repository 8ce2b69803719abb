package dev.agentplatform.conversation;

import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import jakarta.json.spi.JsonProvider;
import java.util.List;
import java.util.Map;

/**
 * Cuts what an event stores to fit a Firestore document (1 MiB, field names included): texts by the bytes of
 * their stored form (UTF-8 inside a JSON string), never inside a character or a surrogate pair, and the long
 * strings inside a tool call's input, so a 2 MB {@code Write} is stored, shortened, instead of failing the turn.
 */
public final class StoredText {
  /** Looked up once: each {@code Json.create...} call looks the provider up again (a class-loader scan). */
  private static final JsonProvider JSON = JsonProvider.provider();

  /** The most bytes one text takes in an event's stored JSON (a quarter of a Firestore document). */
  public static final int MAX_TEXT_BYTES = 256 * 1024;
  /** The most bytes a tool call's input takes in the stored JSON, all its strings together. */
  public static final int MAX_INPUT_BYTES = 256 * 1024;
  /** Strings of a tool call's input up to this size are kept whole (a file path, a command), however many. */
  static final int SMALL_STRING_BYTES = 4 * 1024;
  /** What a cut input keeps when even its small strings are too many: the fields the page shows. */
  private static final List<String> SHOWN_FIELDS = List.of("file_path", "command", "description", "pattern", "url");

  private StoredText() {
  }

  /** The text, or its longest head that takes at most {@code maxBytes} stored, and a note of what was left out. */
  public static String cut(String text, int maxBytes) {
    if (text == null) {
      return "";
    }
    int end = fit(text, maxBytes);
    if (end == text.length()) {
      return text;
    }
    return text.substring(0, end) + "\n[... " + (utf8Bytes(text) - utf8Bytes(text.substring(0, end)))
        + " more bytes not kept]";
  }

  /** {@link #cut(String, int)} to {@link #MAX_TEXT_BYTES}. */
  public static String cut(String text) {
    return cut(text, MAX_TEXT_BYTES);
  }

  /**
   * A tool call's input as it may be stored: unchanged when it fits {@link #MAX_INPUT_BYTES}; otherwise each long
   * string is cut to an equal share of what the short ones leave, so {@code file_path} and {@code command} stay
   * whole and readable; an input made of too many short strings keeps only the fields the page shows.
   */
  public static JsonValue cutInput(JsonValue input) {
    if (input == null || storedBytes(input) <= MAX_INPUT_BYTES) {
      return input;
    }
    long[] sizes = new long[2]; // bytes of short strings, count of long strings
    measure(input, sizes);
    // An eighth is left for field names, structure and the notes of what was cut.
    long share = sizes[1] == 0 ? 0 : Math.max(1024, (MAX_INPUT_BYTES / 8 * 7 - sizes[0]) / sizes[1]);
    JsonValue cut = shorten(input, (int) Math.min(share, MAX_INPUT_BYTES));
    if (storedBytes(cut) <= MAX_INPUT_BYTES) {
      return cut;
    }
    JsonObjectBuilder kept = JSON.createObjectBuilder();
    if (input instanceof JsonObject o) {
      for (String field : SHOWN_FIELDS) {
        if (o.get(field) instanceof JsonString s) {
          kept.add(field, cut(s.getString(), SMALL_STRING_BYTES));
        }
      }
    }
    return kept.add("_cut", "the input took " + storedBytes(input) + " bytes; only the fields shown were kept").build();
  }

  /** The bytes of a value's stored (compact JSON, UTF-8) form. */
  static long storedBytes(JsonValue value) {
    return utf8Bytes(value.toString());
  }

  /** UTF-8 bytes of a string, counted without encoding it. */
  public static long utf8Bytes(String s) {
    long n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        n += 1;
      } else if (c < 0x800) {
        n += 2;
      } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        n += 4;
        i++;
      } else {
        n += 3;
      }
    }
    return n;
  }

  /** How many chars of {@code text}, from its start, take at most {@code maxBytes} inside a JSON string. */
  private static int fit(String text, int maxBytes) {
    long n = 0;
    int i = 0;
    while (i < text.length()) {
      char c = text.charAt(i);
      int chars = 1;
      int bytes;
      if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f') {
        bytes = 2;
      } else if (c < 0x20) {
        bytes = 6; // \\u00XX
      } else if (c < 0x80) {
        bytes = 1;
      } else if (c < 0x800) {
        bytes = 2;
      } else if (Character.isHighSurrogate(c) && i + 1 < text.length()
          && Character.isLowSurrogate(text.charAt(i + 1))) {
        bytes = 4;
        chars = 2; // a pair is kept or left out whole
      } else {
        bytes = 3;
      }
      if (n + bytes > maxBytes) {
        return i;
      }
      n += bytes;
      i += chars;
    }
    return i;
  }

  private static void measure(JsonValue value, long[] sizes) {
    if (value instanceof JsonString s) {
      long bytes = utf8Bytes(s.getString());
      if (bytes <= SMALL_STRING_BYTES) {
        sizes[0] += bytes;
      } else {
        sizes[1]++;
      }
    } else if (value instanceof JsonObject o) {
      o.values().forEach(v -> measure(v, sizes));
    } else if (value instanceof JsonArray a) {
      a.forEach(v -> measure(v, sizes));
    }
  }

  private static JsonValue shorten(JsonValue value, int share) {
    if (value instanceof JsonString s) {
      return utf8Bytes(s.getString()) <= SMALL_STRING_BYTES ? s : JSON.createValue(cut(s.getString(), share));
    }
    if (value instanceof JsonObject o) {
      JsonObjectBuilder b = JSON.createObjectBuilder();
      for (Map.Entry<String, JsonValue> e : o.entrySet()) {
        b.add(e.getKey(), shorten(e.getValue(), share));
      }
      return b.build();
    }
    if (value instanceof JsonArray a) {
      JsonArrayBuilder b = JSON.createArrayBuilder();
      a.forEach(v -> b.add(shorten(v, share)));
      return b.build();
    }
    return value;
  }
}
