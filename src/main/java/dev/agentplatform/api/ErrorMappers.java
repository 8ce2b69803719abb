package dev.agentplatform.api;

import dev.agentplatform.error.ErrorCode;
import dev.agentplatform.error.PlatformException;
import dev.agentplatform.metrics.PlatformMetrics;
import jakarta.inject.Inject;
import jakarta.json.Json;
import jakarta.json.spi.JsonProvider;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Provider;
import java.util.logging.Level;
import java.util.logging.Logger;

/** Turns every failure of the REST API into a typed JSON error body with the matching HTTP status. */
public final class ErrorMappers {

  private static final Logger LOG = Logger.getLogger(ErrorMappers.class.getName());

  /** Looked up once: each {@code Json.create...} call looks the provider up again (a class-loader scan). */
  private static final JsonProvider JSON = JsonProvider.provider();

  private ErrorMappers() {
  }

  static Response response(ErrorCode code, String message) {
    return Response.status(code.httpStatus()).type(MediaType.APPLICATION_JSON)
        .entity(JSON.createObjectBuilder().add("code", code.wire()).add("message", message).build()).build();
  }

  /** Expected failures: their own code and message. */
  @Provider
  public static class Platform implements ExceptionMapper<PlatformException> {
    @Inject
    PlatformMetrics metrics;

    @Override
    public Response toResponse(PlatformException e) {
      return typed(metrics, e);
    }
  }

  static Response typed(PlatformMetrics metrics, PlatformException e) {
    metrics.error(e.code());
    return response(e.code(), e.getMessage());
  }

  /** What JAX-RS itself refuses (unknown path, wrong method or media type). */
  @Provider
  public static class Web implements ExceptionMapper<WebApplicationException> {
    @Override
    public Response toResponse(WebApplicationException e) {
      int status = e.getResponse().getStatus();
      ErrorCode code = status == 404 ? ErrorCode.NOT_FOUND : status >= 500 ? ErrorCode.INTERNAL : ErrorCode.BAD_REQUEST;
      return Response.fromResponse(response(code, String.valueOf(e.getMessage()))).status(status).build();
    }
  }

  /** Anything else is a bug: logged, and answered without internals. */
  @Provider
  public static class Unexpected implements ExceptionMapper<RuntimeException> {
    @Inject
    PlatformMetrics metrics;

    @Override
    public Response toResponse(RuntimeException e) {
      if (e instanceof WebApplicationException w) {
        return new Web().toResponse(w);
      }
      if (e instanceof PlatformException p) {
        return typed(metrics, p);
      }
      LOG.log(Level.WARNING, "REST request failed", e);
      metrics.error(ErrorCode.INTERNAL);
      return response(ErrorCode.INTERNAL, "internal error; the server log has the details");
    }
  }
}
