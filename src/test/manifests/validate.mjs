// Validates Kubernetes objects offline against the API's schemas: the Kubernetes API's own (kubernetes-models), GKE's
// custom resources (@kubernetes-models/gke) and, for the one kind neither covers, a schema of this project's
// (schemas/). Reads a JSON array of objects on stdin; prints a JSON array with one entry per object, in order:
// {"kind", "name", "errors": ["<path> <message>", ...]}; an object of a kind with no schema here is an error too.
// Exits 0 when it could judge every object (whatever it found), 1 when it could not run.
import { readFileSync } from "node:fs";
import Ajv from "ajv";

/** Kinds that neither package has, each with a schema file of this project. */
const LOCAL_SCHEMAS = {
  "monitoring.googleapis.com/v1/PodMonitoring": "./schemas/monitoring.googleapis.com-v1-PodMonitoring.json",
};

const ajv = new Ajv({ allErrors: true, strict: false });
const compiled = new Map();

async function modelFor(apiVersion, kind) {
  // Core kinds are "v1" (kubernetes-models/v1); others "group/version", in one package or the other.
  for (const pkg of ["kubernetes-models", "@kubernetes-models/gke"]) {
    try {
      const mod = await import(`${pkg}/${apiVersion}`);
      if (typeof mod[kind] === "function") {
        return mod[kind];
      }
    } catch (e) {
      if (e.code !== "ERR_PACKAGE_PATH_NOT_EXPORTED" && e.code !== "ERR_MODULE_NOT_FOUND") {
        throw e;
      }
    }
  }
  return null;
}

function describe(errors) {
  return (errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}`
      + (e.params && e.params.additionalProperty ? ` (${e.params.additionalProperty})` : ""));
}

async function check(object) {
  const apiVersion = object?.apiVersion;
  const kind = object?.kind;
  if (typeof apiVersion !== "string" || typeof kind !== "string") {
    return ["/ has no apiVersion or kind"];
  }
  const local = LOCAL_SCHEMAS[`${apiVersion}/${kind}`];
  if (local) {
    if (!compiled.has(local)) {
      compiled.set(local, ajv.compile(JSON.parse(readFileSync(new URL(local, import.meta.url), "utf8"))));
    }
    const validate = compiled.get(local);
    return validate(object) ? [] : describe(validate.errors);
  }
  const Model = await modelFor(apiVersion, kind);
  if (Model === null) {
    return [`/ no schema for ${apiVersion} ${kind} in kubernetes-models, @kubernetes-models/gke or schemas/`];
  }
  try {
    new Model(object).validate();
    return [];
  } catch (e) {
    return e.errors ? describe(e.errors) : [String(e.message)];
  }
}

const objects = JSON.parse(readFileSync(0, "utf8"));
const results = [];
for (const object of objects) {
  results.push({ kind: String(object?.kind), name: String(object?.metadata?.name), errors: await check(object) });
}
process.stdout.write(JSON.stringify(results));
