package dev.agentplatform.api;

import dev.agentplatform.agent.Agent;
import dev.agentplatform.agent.AgentJson;
import dev.agentplatform.application.AgentOperations;
import dev.agentplatform.application.StrictJson;
import dev.agentplatform.auth.Identity;
import dev.agentplatform.conversation.EventJson;
import dev.agentplatform.error.PlatformException;
import dev.agentplatform.turn.TurnService;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import jakarta.json.spi.JsonProvider;
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
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * The REST API for agents and their history, a thin adapter over {@link AgentOperations}; errors come as
 * {@code {"code":..,"message":..}} with an HTTP status.
 */
@Path("/agents")
@Produces(MediaType.APPLICATION_JSON)
@ApplicationScoped
@Tag(name = "agents")
public class AgentResource {
  /** Looked up once: each {@code Json.create...} call looks the provider up again (a class-loader scan). */
  private static final JsonProvider JSON = JsonProvider.provider();

  static final int DEFAULT_LIMIT = 100;

  @Inject
  Identity identity;

  @Inject
  AgentOperations operations;

  @GET
  @Operation(summary = "List the caller's agents")
  public JsonObject list(@Context HttpHeaders headers) {
    JsonArrayBuilder list = JSON.createArrayBuilder();
    operations.list(user(headers)).forEach(a -> list.add(AgentJson.toJson(a)));
    return JSON.createObjectBuilder().add("agents", list).build();
  }

  @POST
  @Consumes(MediaType.APPLICATION_JSON)
  @Operation(summary = "Create an agent from {name, instructions, model, allowedTools}")
  @APIResponse(responseCode = "201", description = "The new agent")
  @APIResponse(responseCode = "400", description = "bad_request: a field is missing or invalid")
  public Response create(@Context HttpHeaders headers, String body) {
    Agent agent = operations.create(user(headers), AgentJson.draft(object(body), "body"));
    return Response.status(Response.Status.CREATED)
        .entity(JSON.createObjectBuilder().add("agent", AgentJson.toJson(agent)).build()).build();
  }

  @GET
  @Path("{id}")
  @Operation(summary = "Read one agent, with the seq of its last event")
  @APIResponse(responseCode = "200", description = "The agent and its last seq")
  @APIResponse(responseCode = "404", description = "not_found: no such agent for this user")
  public JsonObject get(@Context HttpHeaders headers, @PathParam("id") String id) {
    AgentOperations.AgentView view = operations.get(user(headers), id);
    return JSON.createObjectBuilder().add("agent", AgentJson.toJson(view.agent())).add("lastSeq", view.lastSeq())
        .build();
  }

  @PATCH
  @Path("{id}")
  @Consumes(MediaType.APPLICATION_JSON)
  @Operation(summary = "Change an agent's name, instructions, model or allowed tools (only the fields given)")
  public JsonObject update(@Context HttpHeaders headers, @PathParam("id") String id, String body) {
    Agent agent = operations.update(user(headers), id, AgentJson.changes(object(body), "body"));
    return JSON.createObjectBuilder().add("agent", AgentJson.toJson(agent)).build();
  }

  @DELETE
  @Path("{id}")
  @Operation(summary = "Delete an agent, its conversation and its workspace")
  @APIResponse(responseCode = "204", description = "Deleted")
  public Response delete(@Context HttpHeaders headers, @PathParam("id") String id) {
    operations.delete(user(headers), id);
    return Response.noContent().build();
  }

  @GET
  @Path("{id}/events")
  @Operation(summary = "Page through an agent's conversation: events with a seq above 'after', at most 'limit'")
  public JsonObject events(@Context HttpHeaders headers, @PathParam("id") String id,
      @Parameter(description = "return events after this seq (default 0)") @QueryParam("after") String after,
      @Parameter(description = "at most this many events, 1 to 1000 (default 100)") @QueryParam("limit") String limit) {
    long afterSeq = number(after, "after", 0, 0, Long.MAX_VALUE);
    int max = (int) number(limit, "limit", DEFAULT_LIMIT, 1, AgentOperations.MAX_PAGE);
    AgentOperations.Page page = operations.history(user(headers), id, afterSeq, max);
    JsonArrayBuilder events = JSON.createArrayBuilder();
    page.events().forEach(e -> events.add(EventJson.toJson(e)));
    return JSON.createObjectBuilder().add("events", events).add("hasMore", page.hasMore())
        .add("nextAfter", page.nextAfter()).build();
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
    TurnService.Started started = operations.send(user(headers), id, s.getString());
    return Response.accepted(JSON.createObjectBuilder().add("turnId", started.turnId())
        .add("seq", started.userMessage().seq()).build()).build();
  }

  @POST
  @Path("{id}/interrupt")
  @Operation(summary = "Stop the agent's running turn, if any")
  public JsonObject interrupt(@Context HttpHeaders headers, @PathParam("id") String id) {
    return JSON.createObjectBuilder().add("interrupted", operations.interrupt(user(headers), id)).build();
  }

  private String user(HttpHeaders headers) {
    return identity.userId(headers::getHeaderString);
  }

  private static JsonObject object(String body) {
    return StrictJson.object(body, "the body");
  }

  private static long number(String value, String name, long fallback, long min, long max) {
    if (value == null || value.isBlank()) {
      return fallback;
    }
    try {
      String digits = value.trim();
      if (!digits.matches("-?[0-9]{1,19}")) {
        throw new NumberFormatException();
      }
      long n = Long.parseLong(digits);
      if (n < min || n > max) {
        throw PlatformException.badRequest(name + ": must be between " + min + " and " + max);
      }
      return n;
    } catch (NumberFormatException e) {
      throw PlatformException.badRequest(name + ": must be a whole number between " + min + " and " + max);
    }
  }
}
