package dev.agentplatform.runner;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The body of {@code POST /cli}: the CLI's whole argument list, its whole environment, and its working directory.
 *
 * @param argv the command and its arguments, run as they are (no shell)
 * @param env the CLI's entire environment: nothing of the runner's own is added
 * @param cwd the working directory, inside the runner's workspace
 */
record StartRequest(List<String> argv, Map<String, String> env, String cwd) {

  /** Reads a parsed body, refusing anything but the three members with their types. */
  static StartRequest from(Object body) throws ApiError {
    if (!(body instanceof Map<?, ?> map)) {
      throw bad("the body is a JSON object {\"argv\":[...],\"env\":{...},\"cwd\":\"...\"}");
    }
    for (Object key : map.keySet()) {
      if (!List.of("argv", "env", "cwd").contains(key)) {
        throw bad("unknown member \"" + key + "\"");
      }
    }
    if (!(map.get("argv") instanceof List<?> list) || list.isEmpty()) {
      throw bad("argv is a non-empty array of strings");
    }
    List<String> argv = new ArrayList<>();
    for (Object a : list) {
      if (!(a instanceof String s) || s.indexOf('\0') >= 0) {
        throw bad("argv is a non-empty array of strings without NUL characters");
      }
      argv.add(s);
    }
    if (argv.get(0).isEmpty() || argv.get(0).indexOf('=') >= 0) {
      throw bad("argv[0], the command, is a program name or path, not empty and without '='");
    }
    Map<String, String> env = new LinkedHashMap<>();
    Object e = map.get("env");
    if (e != null) {
      if (!(e instanceof Map<?, ?> vars)) {
        throw bad("env is an object of strings");
      }
      for (Map.Entry<?, ?> v : vars.entrySet()) {
        String name = (String) v.getKey();
        // Names as a shell would take them: they are handed to env(1) after the uid switch as NAME=value arguments,
        // where a name starting with '-' would be read as an option.
        if (!(v.getValue() instanceof String value) || !name.matches("[A-Za-z_][A-Za-z0-9_]*")
            || value.indexOf('\0') >= 0) {
          throw bad("env is an object of strings; a name is letters, digits and '_', not starting with a digit,"
              + " and a value holds no NUL: " + name);
        }
        env.put(name, value);
      }
    }
    if (!(map.get("cwd") instanceof String cwd) || cwd.isEmpty()) {
      throw bad("cwd is a non-empty string");
    }
    return new StartRequest(List.copyOf(argv), Map.copyOf(env), cwd);
  }

  private static ApiError bad(String message) {
    return new ApiError(400, "bad_request", message);
  }
}
