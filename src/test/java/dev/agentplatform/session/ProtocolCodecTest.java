package dev.agentplatform.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.error.ErrorCode;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every client frame decodes into its record, and every kind of bad frame into a typed error with its id. */
class ProtocolCodecTest {

  @Test
  void decodesEveryRequestType() {
    var create = assertInstanceOf(ClientMessage.CreateAgent.class, ProtocolCodec.decode(
        "{\"type\":\"agent.create\",\"id\":\"1\",\"agent\":{\"name\":\"a\",\"allowedTools\":[\"Write\"]}}"));
    assertEquals("a", create.agent().name());
    assertEquals(List.of("Write"), create.agent().allowedTools());
    assertInstanceOf(ClientMessage.ListAgents.class, ProtocolCodec.decode("{\"type\":\"agent.list\",\"id\":2}"));
    assertEquals("x", ((ClientMessage.GetAgent) ProtocolCodec.decode(
        "{\"type\":\"agent.get\",\"id\":\"3\",\"agentId\":\"x\"}")).agentId());
    var update = (ClientMessage.UpdateAgent) ProtocolCodec.decode(
        "{\"type\":\"agent.update\",\"id\":\"4\",\"agentId\":\"x\",\"changes\":{\"model\":\"opus\"}}");
    assertEquals("opus", update.changes().model());
    assertNull(update.changes().name());
    assertInstanceOf(ClientMessage.DeleteAgent.class, ProtocolCodec.decode(
        "{\"type\":\"agent.delete\",\"id\":\"5\",\"agentId\":\"x\"}"));
    assertEquals("hi", ((ClientMessage.Send) ProtocolCodec.decode(
        "{\"type\":\"send\",\"id\":\"6\",\"agentId\":\"x\",\"text\":\"hi\"}")).text());
    assertInstanceOf(ClientMessage.Interrupt.class, ProtocolCodec.decode(
        "{\"type\":\"interrupt\",\"id\":\"7\",\"agentId\":\"x\"}"));
    assertEquals(42, ((ClientMessage.Subscribe) ProtocolCodec.decode(
        "{\"type\":\"subscribe\",\"id\":\"8\",\"agentId\":\"x\",\"afterSeq\":42}")).afterSeq());
    assertEquals(0, ((ClientMessage.Subscribe) ProtocolCodec.decode(
        "{\"type\":\"subscribe\",\"id\":\"8\",\"agentId\":\"x\"}")).afterSeq());
    assertInstanceOf(ClientMessage.Unsubscribe.class, ProtocolCodec.decode(
        "{\"type\":\"unsubscribe\",\"id\":\"9\",\"agentId\":\"x\"}"));
    assertInstanceOf(ClientMessage.Ping.class, ProtocolCodec.decode("{\"type\":\"ping\",\"id\":\"10\"}"));
    assertTrue(((ClientMessage.Options) ProtocolCodec.decode("{\"type\":\"options\",\"id\":\"11\",\"batch\":true}"))
        .batch());
    assertFalse(((ClientMessage.Options) ProtocolCodec.decode(
        "{\"type\":\"options\",\"id\":\"11\",\"batch\":false}")).batch());
  }

  private static ProtocolException refused(String frame) {
    return assertThrows(ProtocolException.class, () -> ProtocolCodec.decode(frame));
  }

  @Test
  void badFramesAreTypedErrorsCarryingTheirIdWhenReadable() {
    ProtocolException malformed = refused("{not json");
    assertEquals(ErrorCode.BAD_REQUEST, malformed.code());
    assertNull(malformed.requestId());
    assertTrue(malformed.getMessage().startsWith("malformed JSON"));

    assertEquals(ErrorCode.BAD_REQUEST, refused("[1]").code());
    assertTrue(refused("{\"type\":\"ping\"}").getMessage().startsWith("id:"));

    ProtocolException unknown = refused("{\"type\":\"launch\",\"id\":\"u1\"}");
    assertEquals("u1", unknown.requestId());
    assertTrue(unknown.getMessage().contains("unknown type 'launch'"));

    ProtocolException missing = refused("{\"type\":\"send\",\"id\":\"m1\",\"agentId\":\"x\"}");
    assertEquals("m1", missing.requestId());
    assertEquals("text: required", missing.getMessage());

    assertEquals("afterSeq: must be a whole number, 0 or more",
        refused("{\"type\":\"subscribe\",\"id\":\"s\",\"agentId\":\"x\",\"afterSeq\":-1}").getMessage());
    assertEquals("agentId: must be a string",
        refused("{\"type\":\"agent.get\",\"id\":\"g\",\"agentId\":7}").getMessage());
    assertEquals("agent.allowedTools: must be an array of strings",
        refused("{\"type\":\"agent.create\",\"id\":\"c\",\"agent\":{\"name\":\"a\",\"allowedTools\":\"Write\"}}")
            .getMessage());
    assertTrue(refused("{\"type\":\"agent.create\",\"id\":\"c\",\"agent\":{\"name\":\"a\",\"tools\":[]}}")
        .getMessage().contains("unknown field"));

    ProtocolException noBatch = refused("{\"type\":\"options\",\"id\":\"o\"}");
    assertEquals("o", noBatch.requestId());
    assertEquals("batch: required, true or false", noBatch.getMessage());
    for (String value : new String[] {"\"true\"", "1", "0", "null", "[]", "{}", "\"yes\""}) {
      ProtocolException bad = refused("{\"type\":\"options\",\"id\":\"o\",\"batch\":" + value + "}");
      assertEquals(ErrorCode.BAD_REQUEST, bad.code(), value);
      assertEquals("o", bad.requestId(), value);
      assertTrue(bad.getMessage().startsWith("batch: "), value);
    }
  }

  @Test
  void hostileFramesAreBadRequestsAndNoMangledIdIsEchoed() {
    ProtocolException deep = refused("{\"type\":\"ping\",\"id\":\"d\",\"x\":" + "[".repeat(100_000));
    assertEquals(ErrorCode.BAD_REQUEST, deep.code());
    assertTrue(deep.getMessage().contains("nested deeper than 32 levels"), deep.getMessage());
    assertNull(deep.requestId());

    ProtocolException trailing = refused("{\"type\":\"ping\",\"id\":\"1\"}}");
    assertEquals(ErrorCode.BAD_REQUEST, trailing.code());
    assertTrue(trailing.getMessage().contains("after the end of the object"), trailing.getMessage());
    assertEquals(ErrorCode.BAD_REQUEST, refused("{\"type\":\"ping\",\"id\":\"1\"} {\"type\":\"ping\"}").code());
    assertInstanceOf(ClientMessage.Ping.class, ProtocolCodec.decode(" {\"type\":\"ping\",\"id\":\"1\"}\r\n"));

    for (String seq : new String[] {"9223372036854775808", "18446744073709551616", "1e19", "1e999999999", "-0.5",
        "1.5", "-1", "\"7\""}) {
      String frame = "{\"type\":\"subscribe\",\"id\":\"s\",\"agentId\":\"x\",\"afterSeq\":" + seq + "}";
      assertEquals("afterSeq: must be a whole number, 0 or more", refused(frame).getMessage(), seq);
    }
    assertEquals(Long.MAX_VALUE, ((ClientMessage.Subscribe) ProtocolCodec.decode(
        "{\"type\":\"subscribe\",\"id\":\"s\",\"agentId\":\"x\",\"afterSeq\":9223372036854775807}")).afterSeq());
    assertEquals(7, ((ClientMessage.Subscribe) ProtocolCodec.decode(
        "{\"type\":\"subscribe\",\"id\":\"s\",\"agentId\":\"x\",\"afterSeq\":7.0}")).afterSeq());

    for (String frame : new String[] {"{\"type\":\"ping\",\"id\":\"\\ud800\"}",
        "{\"type\":\"ping\",\"id\":\"a\\udc00b\"}", "{\"type\":\"ping\",\"id\":\"\ud800\"}",
        "{\"type\":\"send\",\"id\":\"1\",\"agentId\":\"x\",\"text\":\"\\ud83d\"}",
        "{\"type\":\"ping\",\"id\":\"1\",\"\\udfff\":1}"}) {
      ProtocolException lone = refused(frame);
      assertEquals(ErrorCode.BAD_REQUEST, lone.code(), frame);
      assertNull(lone.requestId(), frame);
      assertTrue(lone.getMessage().contains("unpaired UTF-16 surrogate"), lone.getMessage());
    }
    assertEquals("\ud83d\ude00", ProtocolCodec.decode("{\"type\":\"ping\",\"id\":\"\\ud83d\\ude00\"}").id());
  }

  @Test
  void everyRequestTypeHasItsOwnHandlerMethod() {
    ClientMessage.Handler<String> names = new ClientMessage.Handler<>() {
      public String createAgent(ClientMessage.CreateAgent m) {
        return "createAgent";
      }
      public String listAgents(ClientMessage.ListAgents m) {
        return "listAgents";
      }
      public String getAgent(ClientMessage.GetAgent m) {
        return "getAgent";
      }
      public String updateAgent(ClientMessage.UpdateAgent m) {
        return "updateAgent";
      }
      public String deleteAgent(ClientMessage.DeleteAgent m) {
        return "deleteAgent";
      }
      public String send(ClientMessage.Send m) {
        return "send";
      }
      public String interrupt(ClientMessage.Interrupt m) {
        return "interrupt";
      }
      public String subscribe(ClientMessage.Subscribe m) {
        return "subscribe";
      }
      public String unsubscribe(ClientMessage.Unsubscribe m) {
        return "unsubscribe";
      }
      public String ping(ClientMessage.Ping m) {
        return "ping";
      }
      public String options(ClientMessage.Options m) {
        return "options";
      }
    };
    assertEquals("send", ProtocolCodec.decode("{\"type\":\"send\",\"id\":\"6\",\"agentId\":\"x\",\"text\":\"hi\"}")
        .accept(names));
    assertEquals("ping", ProtocolCodec.decode("{\"type\":\"ping\",\"id\":\"6\"}").accept(names));
    // Each permitted record is one request type, and each has a method of its own in the handler.
    assertEquals(ClientMessage.class.getPermittedSubclasses().length,
        ClientMessage.Handler.class.getDeclaredMethods().length);
  }

  @Test
  void encodesServerFrames() {
    assertEquals("{\"type\":\"error\",\"id\":null,\"code\":\"too_large\",\"message\":\"m\"}",
        ProtocolCodec.error(null, ErrorCode.TOO_LARGE, "m"));
    assertEquals("{\"type\":\"reply\",\"id\":\"1\",\"pong\":true}",
        ProtocolCodec.reply("1", jakarta.json.Json.createObjectBuilder().add("pong", true)));
    jakarta.json.JsonObject e1 = jakarta.json.Json.createObjectBuilder().add("agentId", "a\"1").add("seq", 1)
        .add("text", "x\ny").build();
    jakarta.json.JsonObject e2 = jakarta.json.Json.createObjectBuilder().add("agentId", "a\"1").add("seq", 2).build();
    assertEquals(ProtocolCodec.event(e1), ProtocolCodec.event(e1.toString()), "spliced as built");
    String batch = ProtocolCodec.events("a\"1", List.of(e1.toString(), e2.toString()));
    jakarta.json.JsonObject parsed = jakarta.json.Json.createReader(new java.io.StringReader(batch)).readObject();
    assertEquals("events", parsed.getString("type"));
    assertEquals("a\"1", parsed.getString("agentId"));
    assertEquals(List.of(e1, e2), parsed.getJsonArray("events"));
  }
}
