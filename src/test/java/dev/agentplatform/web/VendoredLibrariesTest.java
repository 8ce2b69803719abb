package dev.agentplatform.web;

import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The page's vendored libraries are exactly the versions pinned in src/main/frontend (scripts/update-web-vendor). */
class VendoredLibrariesTest {

  private static final Path VENDOR = Path.of("src/main/webapp/app/vendor");

  private static String pinned(String name) throws Exception {
    JsonObject pkg = Json.createReader(new StringReader(Files.readString(Path.of("src/main/frontend/package.json"))))
        .readObject();
    return pkg.getJsonObject("dependencies").getString(name);
  }

  @Test
  void domPurifyIsThePinnedVersion() throws Exception {
    String head = Files.readString(VENDOR.resolve("purify.es.mjs")).substring(0, 200);
    assertTrue(head.contains("@license DOMPurify " + pinned("dompurify") + " "), head);
  }

  @Test
  void markedIsThePinnedVersion() throws Exception {
    String head = Files.readString(VENDOR.resolve("marked.esm.js")).substring(0, 200);
    assertTrue(head.contains("marked v" + pinned("marked") + " "), head);
  }
}
