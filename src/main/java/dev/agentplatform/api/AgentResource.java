package dev.agentplatform.api;

import dev.agentplatform.agent.Agent;
import dev.agentplatform.agent.AgentJson;
import dev.agentplatform.agent.AgentService;
import dev.agentplatform.auth.Identity;
import dev.agentplatform.conversation.ConversationEvent;
import dev.agentplatform.conversation.ConversationService;
import dev.agentplatform.conversation.EventJson;
import dev.agentplatform.error.PlatformException;
import dev.agentplatform.metrics.PlatformMetrics;
import dev.agentplatform.turn.TurnService;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonException;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.PATCH;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.StringReader;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** The REST API for agents and their history; errors come as {@code {"code":..,"message":..}} with an HTTP status. */
@Path("/agents")
@Produces(MediaType.APPLICATION_JSON)
@ApplicationScoped
@Tag(name = "agents")
public class AgentResource {

  static final int DEFAULT_LIMIT = 100;
  static final int MAX_LIMIT = 1000;

  @Inject
  Identity identity;

  @Inject
  AgentService agents;

  @Inject
  TurnService turns;

  @Inject
  ConversationService conversations;

  @Inject
  PlatformMetrics metrics;

  @GET
  @Operation(summary = "List the caller's agents")
  public JsonObject list(@Context HttpHeaders headers) {
    JsonArrayBuilder list = Json.createArrayBuilder();
    agents.list(user(headers)).forEach(a -> list.add(AgentJson.toJson(turns.effective(a))));
    return Json.createObjectBuilder().add("agents", list).build();
  }

  @POST
  @Consumes(MediaType.APPLICATION_JSON)
  @Operation(summary = "Create an agent from {name, instructions, model, allowedTools}")
  @APIResponse(responseCode = "201", description = "The new agent")
  @APIResponse(responseCode = "400", description = "bad_request: a field is missing or invalid")
  public Response create(@Context HttpHeaders headers, String body) {
    Agent agent = agents.create(user(headers), AgentJson.draft(object(body), "body"));
    metrics.agentCreated();
    return Response.status(Response.Status.CREATED)
        .entity(Json.createObjectBuilder().add("agent", AgentJson.toJson(agent)).build()).build();
  }

  @GET
  @Path("{id}")
  @Operation(summary = "Read one agent, with the seq of its last event")
  @APIResponse(responseCode = "200", description = "The agent and its last seq")
  @APIResponse(responseCode = "404", description = "not_found: no such agent for this user")
  public JsonObject get(@Context HttpHeaders headers, @PathParam("id") String id) {
    Agent agent = turns.effective(agents.require(user(headers), id));
    return Json.createObjectBuilder().add("agent", AgentJson.toJson(agent))
        .add("lastSeq", conversations.lastSeq(agent.id())).build();
  }

  @PATCH
  @Path("{id}")
  @Consumes(MediaType.APPLICATION_JSON)
  @Operation(summary = "Change an agent's name, instructions, model or allowed tools (only the fields given)")
  public JsonObject update(@Context HttpHeaders headers, @PathParam("id") String id, String body) {
    Agent agent = turns.effective(agents.update(user(headers), id, AgentJson.changes(object(body), "body")));
    return Json.createObjectBuilder().add("agent", AgentJson.toJson(agent)).build();
  }

  @DELETE
  @Path("{id}")
  @Operation(summary = "Delete an agent, its conversation and its workspace")
  @APIResponse(responseCode = "204", description = "Deleted")
  public Response delete(@Context HttpHeaders headers, @PathParam("id") String id) {
    agents.delete(user(headers), id);
    metrics.agentDeleted();
    return Response.noContent().build();
  }

  @GET
  @Path("{id}/events")
  @Operation(summary = "Page through an agent's conversation: events with a seq above 'after', at most 'limit'")
  public JsonObject events(@Context HttpHeaders headers, @PathParam("id") String id,
      @Parameter(description = "return events after this seq (default 0)") @QueryParam("after") String after,
      @Parameter(description = "at most this many events, 1 to 1000 (default 100)") @QueryParam("limit") String limit) {
    Agent agent = agents.require(user(headers), id);
    long afterSeq = number(after, "after", 0, 0, Long.MAX_VALUE);
    int max = (int) number(limit, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT);
    List<ConversationEvent> page = conversations.history(agent.id(), afterSeq, max + 1);
    boolean more = page.size() > max;
    List<ConversationEvent> shown = more ? page.subList(0, max) : page;
    JsonArrayBuilder events = Json.createArrayBuilder();
    shown.forEach(e -> events.add(EventJson.toJson(e)));
    long next = shown.isEmpty() ? afterSeq : shown.get(shown.size() - 1).seq();
    return Json.createObjectBuilder().add("events", events).add("hasMore", more).add("nextAfter", next).build();
  }

  @POST
  @Path("{id}/messages")
  @Consumes(MediaType.APPLICATION_JSON)
  @Operation(summary = "Send a message {text} to an agent; its reply arrives as events (WebSocket or paging)")
  @APIResponse(responseCode = "202", description = "The turn started")
  @APIResponse(responseCode = "409", description = "busy: a turn is running")
  @APIResponse(responseCode = "503", description = "unavailable: the runtime or store is down, with what to set")
  public Response send(@Context HttpHeaders headers, @PathParam("id") String id, String body) {
    JsonObject o = object(body);
    JsonValue text = o.get("text");
    if (!(text instanceof JsonString s)) {
      throw PlatformException.badRequest("body.text: required, a string");
    }
    TurnService.Started started = turns.send(user(headers), id, s.getString());
    return Response.accepted(Json.createObjectBuilder().add("turnId", started.turnId())
        .add("seq", started.userMessage().seq()).build()).build();
  }

  @POST
  @Path("{id}/interrupt")
  @Operation(summary = "Stop the agent's running turn, if any")
  public JsonObject interrupt(@Context HttpHeaders headers, @PathParam("id") String id) {
    return Json.createObjectBuilder().add("interrupted", turns.interrupt(user(headers), id)).build();
  }

  private String user(HttpHeaders headers) {
    return identity.userId(headers::getHeaderString);
  }

  private static JsonObject object(String body) {
    if (body == null || body.isBlank()) {
      throw PlatformException.badRequest("body: required, a JSON object");
    }
    try {
      JsonValue v = Json.createReader(new StringReader(body)).readValue();
      if (v instanceof JsonObject o) {
        return o;
      }
      throw PlatformException.badRequest("body: must be a JSON object");
    } catch (JsonException e) {
      throw PlatformException.badRequest("body: malformed JSON: " + e.getMessage());
    }
  }

  private static long number(String value, String name, long fallback, long min, long max) {
    if (value == null || value.isBlank()) {
      return fallback;
    }
    try {
      long n = Long.parseLong(value.trim());
      if (n < min || n > max) {
        throw PlatformException.badRequest(name + ": must be between " + min + " and " + max);
      }
      return n;
    } catch (NumberFormatException e) {
      throw PlatformException.badRequest(name + ": must be a whole number");
    }
  }
}
